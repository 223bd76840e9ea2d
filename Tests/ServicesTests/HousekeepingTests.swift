import Foundation
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// Tables that would otherwise only grow: the relay's leader of each service prunes them.
    @Suite("Housekeeping")
    struct HousekeepingTests {
        @Test("users deletes a refresh family once all its tokens are a day past expiry (a live family keeps its used ones: replaying one still revokes it); payments forgets idempotency keys after PAYMENTS_IDEMPOTENCY_RETENTION_HOURS; nothing younger goes")
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
            // Kept rotates once: the first token is used, its successor live, one family.
            let rotated = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(kept.refreshToken)"}"#)
            try #require(rotated.status == 200, "\(rotated.status) \(rotated.text)")
            let successor = try #require(try rotated.json()["refresh_token"] as? String)
            // Age them by hand: Gone's whole family expired two days ago; Kept's used first token
            // too, but its family lives on; one key was used 25 hours ago.
            #expect(try await count("""
                WITH aged AS (UPDATE users.refresh_tokens SET expires_at = now() - interval '2 days' WHERE user_id = \(gone.id) RETURNING 1)
                SELECT count(*) FROM aged
                """) >= 1)
            #expect(try await count("""
                WITH aged AS (UPDATE users.refresh_tokens SET expires_at = now() - interval '2 days' WHERE user_id = \(kept.id) AND used_at IS NOT NULL RETURNING 1)
                SELECT count(*) FROM aged
                """) == 1)
            #expect(try await count("""
                WITH aged AS (UPDATE payments.idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = \(oldKey) RETURNING 1)
                SELECT count(*) FROM aged
                """) == 1)
            try await Poll.until("the expired rows are pruned") {
                let tokens = try await count("SELECT count(*) FROM users.refresh_tokens WHERE user_id = \(gone.id)")
                let keys = try await count("SELECT count(*) FROM payments.idempotency_keys WHERE key = \(oldKey)")
                return tokens == 0 && keys == 0
            }
            #expect(try await count("SELECT count(*) FROM users.refresh_tokens WHERE user_id = \(kept.id)") == 2, "a live family keeps its used tokens")
            #expect(try await count("SELECT count(*) FROM payments.idempotency_keys WHERE key = \(newKey)") == 1)
            // So replaying the old token still gives the family away: it is revoked, successor included.
            let replay = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(kept.refreshToken)"}"#)
            #expect(replay.status == 401)
            let afterReplay = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(successor)"}"#)
            #expect(afterReplay.status == 401, "the family was revoked by the replay")
            try await fleet.stop()
        }
    }
}
