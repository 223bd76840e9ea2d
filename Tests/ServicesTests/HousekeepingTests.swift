import Foundation
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// Tables that would otherwise only grow: the relay's leader of each service prunes them.
    @Suite("Housekeeping")
    struct HousekeepingTests {
        @Test("users deletes refresh tokens a day past their expiry; payments forgets idempotency keys after PAYMENTS_IDEMPOTENCY_RETENTION_HOURS; nothing younger goes")
        func expiredRowsArePruned() async throws {
            let often = ["OUTBOX_PRUNE_INTERVAL_MS": "500"]
            let fleet = try await UsersAndPayments.start(payments: often.merging(["PAYMENTS_IDEMPOTENCY_RETENTION_HOURS": "24"]) { $1 }, users: often)
            let gone = try await fleet.newCustomer("Gone"), kept = try await fleet.newCustomer("Kept")
            _ = try await fleet.walletBalance(of: gone)
            let oldKey = "old-\(UUID().uuidString)", newKey = "new-\(UUID().uuidString)"
            for key in [oldKey, newKey] {
                var headers = gone.bearer
                headers["Idempotency-Key"] = key
                let deposit = try await fleet.payments.request(
                    "POST", "/api/v1/wallet/deposits", headers: headers, json: #"{"amount":{"amount_minor":100,"currency":"EUR"}}"#)
                try #require(deposit.status == 201, "\(deposit.status) \(deposit.text)")
            }
            @Sendable func count(_ query: PostgresQuery) async throws -> Int64 {
                try await AdminDatabase.with { try await AdminDatabase.scalar(query, on: $0) }
            }
            // Age them by hand: Gone's refresh tokens expired two days ago (a day is not enough),
            // one key was used 25 hours ago.
            _ = try await count("""
                WITH aged AS (UPDATE users.refresh_tokens SET expires_at = now() - interval '2 days' WHERE user_id = \(gone.id) RETURNING 1)
                SELECT count(*) FROM aged
                """)
            _ = try await count("""
                WITH recent AS (UPDATE users.refresh_tokens SET expires_at = now() - interval '2 hours' WHERE user_id = \(kept.id) RETURNING 1)
                SELECT count(*) FROM recent
                """)
            _ = try await count("""
                WITH aged AS (UPDATE payments.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = \(oldKey) RETURNING 1)
                SELECT count(*) FROM aged
                """)
            try await Poll.until("the expired rows are pruned") {
                let tokens = try await count("SELECT count(*) FROM users.refresh_tokens WHERE user_id = \(gone.id)")
                let keys = try await count("SELECT count(*) FROM payments.idempotency_keys WHERE key = \(oldKey)")
                return tokens == 0 && keys == 0
            }
            #expect(try await count("SELECT count(*) FROM users.refresh_tokens WHERE user_id = \(kept.id)") >= 1, "expired less than a day ago: kept")
            #expect(try await count("SELECT count(*) FROM payments.idempotency_keys WHERE key = \(newKey)") == 1)
            try await fleet.stop()
        }
    }
}
