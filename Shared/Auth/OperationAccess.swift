public import ServiceKit

/// Who may call a generated operation (see ``Authenticator/gate(_:)``).
public enum OperationAccess: Sendable {
    /// Anyone, without a token (register, log in, the catalogue).
    case anonymous
    /// Any holder of a valid, unrevoked access token.
    case authenticated
    /// A holder of a valid token with the `admin` role (403 for anyone else).
    case admin
}

extension Authenticator {
    /// An ``OperationGate`` that admits each operation by `access[operationID]`, verifying the
    /// bearer token before the request is read, and binds the verified ``Identity`` for the
    /// handler (``Identity/caller()``). An operation missing from `access` needs a token, so a
    /// forgotten entry never opens an operation to anonymous callers; admin-only handlers also
    /// call ``Identity/admin()`` themselves, so a lost `.admin` entry does not open them to
    /// customers. Key the table with the generated ids (`Operations.getWallet.id`) so a typo does
    /// not compile.
    public func gate(_ access: [String: OperationAccess]) -> OperationGate {
        OperationGate { operationID, headerFields in
            switch access[operationID] ?? .authenticated {
            case .anonymous: nil
            case .authenticated: try await identity(of: headerFields)
            case .admin: try await admin(of: headerFields)
            }
        }
    }
}

extension Identity {
    /// The caller of the generated operation being served, as its ``OperationGate`` verified
    /// it; 401 when the operation admitted an anonymous caller.
    public static func caller() throws(AuthFailure) -> Identity {
        guard let identity = CurrentRequest.caller as? Identity else { throw .missingToken }
        return identity
    }

    /// The caller, who must hold the `admin` role (403 otherwise): the admin-only handlers'
    /// own check, beside their `.admin` gate entry.
    public static func admin() throws -> Identity {
        let identity = try caller()
        guard identity.isAdmin else { throw Authenticator.adminRequired }
        return identity
    }
}
