import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// Stored responses of requests made with an `Idempotency-Key` (`payments.idempotency_keys`).
enum IdempotencyRecords {
    struct Stored {
        let fingerprint: Data
        let body: Data
    }

    static func stored(_ key: String, userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Stored? {
        for try await (fingerprint, body) in try await connection.query("""
            SELECT request_hash, response_body FROM payments.idempotency_keys WHERE user_id = \(userID) AND key = \(key)
            """, logger: logger).decode((Data, Data).self) {
            return Stored(fingerprint: fingerprint, body: body)
        }
        return nil
    }

    static func store(_ key: String, userID: UUID, fingerprint: Data, status: Int, body: Data, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("""
            INSERT INTO payments.idempotency_keys (user_id, key, request_hash, status_code, response_body)
            VALUES (\(userID), \(key), \(fingerprint), \(status), \(body))
            """, logger: logger)
    }
}
