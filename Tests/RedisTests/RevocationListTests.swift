import Auth
import Foundation
import Redis
import Testing

/// `RedisRevocationList` on the real redis-server: a revocation lasts as long as a verifier may
/// still accept the token, its `exp` plus the largest leeway (`JWT_LEEWAY_SECONDS` ≤ 300 s).
@Suite("Revocation list (real redis-server)")
struct RevocationListTests {
    private func timeToLive(of tokenID: String, in redis: RedisClient) async throws -> Int64 {
        try #require(try await redis.execute(RedisCommand("PTTL", [.text(RedisRevocationList.key(tokenID))])).integer)
    }

    @Test("a revocation outlives the token's exp by the maximum leeway, also for a token already past exp but within leeway")
    func outlivesLeeway() async throws {
        let redis = try RedisTestKit.client()
        let revocations = RedisRevocationList(redis: redis)
        let leewayMs = AuthSettings.maximumLeeway.components.seconds * 1_000

        let user = UUID()
        let live = UUID().uuidString
        try await revocations.revoke(tokenID: live, expiresAt: Date().addingTimeInterval(60))
        #expect(try await revocations.isRevoked(tokenID: live, userID: user))
        let liveTTL = try await timeToLive(of: live, in: redis)
        #expect(liveTTL > 60_000 + leewayMs - 30_000 && liveTTL <= 60_000 + leewayMs + 1_000, "PTTL \(liveTTL) ms")

        // Logged out 10 s after exp: verifiers with leeway still accept it, so it must be marked.
        let lingering = UUID().uuidString
        try await revocations.revoke(tokenID: lingering, expiresAt: Date().addingTimeInterval(-10))
        #expect(try await revocations.isRevoked(tokenID: lingering, userID: user))
        #expect(try await timeToLive(of: lingering, in: redis) > leewayMs - 10_000 - 30_000)

        // Past exp by more than any leeway: no verifier accepts it; nothing is written.
        let dead = UUID().uuidString
        try await revocations.revoke(tokenID: dead, expiresAt: Date().addingTimeInterval(-Double(leewayMs) / 1_000 - 5))
        #expect(try await revocations.isRevoked(tokenID: dead, userID: user) == false)
    }

    @Test("revoking all of a user's tokens covers every token id of that user (and no other user's), for the token lifetime plus the maximum leeway")
    func wholeUser() async throws {
        let redis = try RedisTestKit.client()
        let revocations = RedisRevocationList(redis: redis)
        let suspended = UUID(), other = UUID()
        #expect(try await revocations.isRevoked(tokenID: UUID().uuidString, userID: suspended) == false)
        try await revocations.revokeAll(of: suspended, lifetime: .seconds(900))
        #expect(try await revocations.isRevoked(tokenID: UUID().uuidString, userID: suspended))
        #expect(try await revocations.isRevoked(tokenID: UUID().uuidString, userID: other) == false)
        let ttl = try #require(try await redis.execute(RedisCommand("PTTL", [.text(RedisRevocationList.key(user: suspended))])).integer)
        let expected = 900_000 + AuthSettings.maximumLeeway.components.seconds * 1_000
        #expect(ttl > expected - 30_000 && ttl <= expected, "PTTL \(ttl) ms")
    }
}
