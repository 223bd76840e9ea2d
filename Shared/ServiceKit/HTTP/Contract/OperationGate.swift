public import HTTPTypes

/// Who may call a generated operation, decided before anything of the request is read: the
/// first step of ``OperationMiddleware``, so a caller without the right credentials hears 401
/// or 403 before any 400 or 413 about the request itself (left to the generated code, the
/// parameters and body would be decoded first and the handler would authenticate afterwards).
///
/// ServiceKit knows nothing of tokens: the Auth module builds gates (`Authenticator.gate(_:)`).
/// What a gate returns is bound as ``CurrentRequest/caller`` for the handler.
public struct OperationGate: Sendable {
    /// The caller of `operationID` as `headerFields` prove it (nil for an anonymous caller that
    /// may proceed); throws a problem to refuse the request.
    public typealias Admit = @Sendable (_ operationID: String, _ headerFields: HTTPFields) async throws -> (any Sendable)?

    let admit: Admit

    /// A gate that decides with `admit`.
    public init(_ admit: @escaping Admit) {
        self.admit = admit
    }

    /// Lets every request through, anonymously.
    public static let open = OperationGate { _, _ in nil }
}
