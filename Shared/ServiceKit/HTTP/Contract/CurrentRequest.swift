public import HTTPTypes

/// The request a generated operation handler is serving, for what the generated `Input` leaves
/// out: the bearer token (a security scheme, not a parameter) and the request id that
/// ``RequestIDMiddleware`` accepted or generated.
///
/// Bound by ``OperationMiddleware`` for the duration of one operation.
public enum CurrentRequest {
    /// The request's header fields; empty outside an operation.
    @TaskLocal public static var headerFields: HTTPFields = [:]

    /// The caller the operation's ``OperationGate`` admitted (the Auth module's `Identity`), or
    /// nil for an anonymous one; nil outside an operation.
    @TaskLocal public static var caller: (any Sendable)?

    /// The request id (``RequestIDMiddleware`` writes it into the request before any handler
    /// runs); empty outside an operation.
    public static var requestID: String { headerFields[RequestIDMiddleware.headerName] ?? "" }
}
