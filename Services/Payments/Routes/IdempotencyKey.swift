import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// The `Idempotency-Key` header and its stored responses (`payments.idempotency_keys`).
enum IdempotencyKey {
    static let header = HTTPField.Name.idempotencyKey

    /// The key of `request`: 1 to 255 printable ASCII characters; a 400 problem otherwise.
    static func require(in request: Request) throws -> String {
        guard let key = request.headers[header], (1...255).contains(key.count), key.allSatisfy({ $0.isASCII && !$0.isWhitespace }) else {
            throw ProblemDetails.validation(
                [.init(field: "Idempotency-Key", message: "header is required: 1-255 printable ASCII characters, for example a UUID")],
                detail: "This operation needs an Idempotency-Key header."
            )
        }
        return key
    }

    /// Takes the transaction-scoped lock of (user, key); false when another request holds it.
    static func lock(_ key: String, userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let lockName = "idempotency:\(userID.uuidString.lowercased()):\(key)"
        for try await taken in try await connection.query(
            "SELECT pg_try_advisory_xact_lock(hashtextextended(\(lockName), 0))", logger: logger
        ).decode(Bool.self) {
            return taken
        }
        return false
    }

    struct Stored {
        let fingerprint: Data
        let status: Int
        let body: Data
    }

    static func stored(_ key: String, userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Stored? {
        for try await (fingerprint, status, body) in try await connection.query("""
            SELECT request_hash, status_code, response_body FROM payments.idempotency_keys WHERE user_id = \(userID) AND key = \(key)
            """, logger: logger).decode((Data, Int, Data).self) {
            return Stored(fingerprint: fingerprint, status: status, body: body)
        }
        return nil
    }

    static func store(_ key: String, userID: UUID, fingerprint: Data, status: Int, body: Data, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO payments.idempotency_keys (user_id, key, request_hash, status_code, response_body)
            VALUES (\(userID), \(key), \(fingerprint), \(status), \(body))
            """, logger: logger)
    }

    /// The stored response again, marked `Idempotent-Replayed: true`.
    static func replay(_ stored: Stored) -> Response {
        Response(
            status: HTTPResponse.Status(code: stored.status),
            headers: [.contentType: "application/json", .idempotentReplayed: "true"],
            body: .init(byteBuffer: ByteBuffer(data: stored.body))
        )
    }

    static let inProgress = ProblemDetails(
        status: .conflict, type: "/problems/idempotency-in-progress", title: "Request in progress",
        detail: "A request with this Idempotency-Key is still being processed; retry shortly."
    )
    static let reusedWithDifferentBody = ProblemDetails(
        status: .unprocessableContent, type: "/problems/idempotency-key-reused", title: "Idempotency-Key reused",
        detail: "This Idempotency-Key was used with a different request body."
    )
}
