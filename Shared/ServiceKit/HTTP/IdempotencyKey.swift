import Foundation
public import HTTPTypes
public import Hummingbird
public import Logging
public import PostgresNIO

/// The `Idempotency-Key` header every effectful `POST` takes, and the lock that makes a
/// concurrent duplicate fail fast. Where the key and its response are stored is up to the
/// service (payments keeps a table of responses, orders a column on the order).
public enum IdempotencyKey {
    /// The key in `headerFields`: 1 to 255 printable ASCII characters; a 400 problem otherwise.
    public static func require(in headerFields: HTTPFields) throws -> String {
        guard let key = headerFields[.idempotencyKey], (1...255).contains(key.utf8.count),
              key.utf8.allSatisfy({ (0x21...0x7E).contains($0) })
        else {
            throw ProblemDetails.validation(
                [.init(field: "Idempotency-Key", message: "header is required: 1-255 printable ASCII characters, for example a UUID")],
                detail: "This operation needs an Idempotency-Key header."
            )
        }
        return key
    }

    /// Takes the transaction-scoped advisory lock of (`scope`, `owner`, `key`); throws
    /// ``inProgress`` (409) when another request holds it.
    public static func lock(_ key: String, scope: String, owner: UUID, on connection: PostgresConnection, logger: Logger) async throws {
        let name = "\(scope):\(owner.uuidString.lowercased()):\(key)"
        for try await taken in try await connection.query(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(\(name), 0))", logger: logger
        ).decode(Bool.self) where !taken {
            throw inProgress
        }
    }

    /// 409: the first request with this key is still running.
    public static let inProgress = ProblemDetails(
        status: .conflict, type: "/problems/idempotency-in-progress", title: "Request in progress",
        detail: "A request with this Idempotency-Key is still being processed; retry shortly."
    )
    /// 422: the key was used with another body.
    public static let reusedWithDifferentBody = ProblemDetails(
        status: .unprocessableContent, type: "/problems/idempotency-key-reused", title: "Idempotency-Key reused",
        detail: "This Idempotency-Key was used with a different request body."
    )
}
