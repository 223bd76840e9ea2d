import Foundation
import Logging
import Redis
import TestSupport
import Testing

/// The token-bucket script at its edges, with explicit timestamps (no dependence on the clock),
/// and on Redis's own clock, as the gateway runs it.
@Suite("Token bucket script (real redis-server)")
struct TokenBucketTests {
    private func client() throws -> RedisClient { try RedisTestKit.client() }

    @Test("a full bucket allows exactly its capacity, then refills one token per interval")
    func edges() async throws {
        let redis = try client()
        let bucket = TokenBucket(capacity: 5, refillPerSecond: 1)
        let key = "test:bucket:\(UUID().uuidString)"
        let t0: Int64 = 1_700_000_000_000

        for expectedRemaining in [4, 3, 2, 1, 0] {
            let decision = try await bucket.take(key: key, nowMs: t0, using: redis)
            #expect(decision.allowed)
            #expect(decision.remaining == expectedRemaining)
        }
        let denied = try await bucket.take(key: key, nowMs: t0, using: redis)
        #expect(denied == .init(allowed: false, remaining: 0, retryAfterMs: 1_000, resetMs: 5_000))

        // One millisecond short of a whole token: still denied, and told to wait exactly 1 ms.
        let almost = try await bucket.take(key: key, nowMs: t0 + 999, using: redis)
        #expect(almost == .init(allowed: false, remaining: 0, retryAfterMs: 1, resetMs: 4_001))

        let refilled = try await bucket.take(key: key, nowMs: t0 + 1_000, using: redis)
        #expect(refilled.allowed)
        #expect(refilled.remaining == 0)

        // A long idle period never overfills the bucket.
        for _ in 0..<5 { #expect(try await bucket.take(key: key, nowMs: t0 + 3_600_000, using: redis).allowed) }
        #expect(try await bucket.take(key: key, nowMs: t0 + 3_600_000, using: redis).allowed == false)

        // A cost above capacity can never be met.
        let tooBig = try await bucket.take(6, key: "\(key):big", nowMs: t0, using: redis)
        #expect(tooBig.allowed == false)
        await redis.close()
    }

    @Test("time going backwards (clock skew between gateways) does not mint tokens")
    func clockSkew() async throws {
        let redis = try client()
        let bucket = TokenBucket(capacity: 2, refillPerSecond: 1)
        let key = "test:bucket:\(UUID().uuidString)"
        let t0: Int64 = 1_700_000_000_000
        #expect(try await bucket.take(2, key: key, nowMs: t0, using: redis).allowed)
        #expect(try await bucket.take(key: key, nowMs: t0 - 5_000, using: redis).allowed == false)
        await redis.close()
    }

    @Test("without an explicit time the bucket runs on Redis's clock: a drained bucket refills as Redis's time passes")
    func redisClock() async throws {
        let redis = try client()
        let bucket = TokenBucket(capacity: 1, refillPerSecond: 1_000)
        let key = "test:bucket:\(UUID().uuidString)"
        #expect(try await bucket.take(key: key, using: redis).allowed)
        // The state's timestamp is Redis's time in milliseconds, not a caller's.
        let stored = try await redis.execute(RedisCommand("HGET", key, "ts")).integer
        let time = try await redis.execute(RedisCommand("TIME")).array?.compactMap(\.integer) ?? []
        let redisNow = try #require(time.first) * 1_000
        #expect(stored.map { abs($0 - redisNow) < 60_000 } == true, "ts \(String(describing: stored)) vs Redis \(redisNow)")
        // Capacity 1 refilled at 1,000/s: the bucket has a token again within milliseconds.
        try await Poll.until("the bucket refills on Redis's clock") { try await bucket.take(key: key, using: redis).allowed }
        await redis.close()
    }

    @Test("an existing veto key (either of two) refuses without spending a token, in the same round trip")
    func vetoKey() async throws {
        let redis = try client()
        let bucket = TokenBucket(capacity: 1, refillPerSecond: 1)
        let key = "test:bucket:\(UUID().uuidString)"
        let veto = "test:veto:\(UUID().uuidString)", other = "test:veto:\(UUID().uuidString)"
        let t0: Int64 = 1_700_000_000_000
        #expect(try await bucket.take(key: key, nowMs: t0, vetoKeys: [veto, other], using: redis) == .init(allowed: true, remaining: 0, retryAfterMs: 0, resetMs: 1_000))
        try await redis.execute(RedisCommand("SET", [.text(other), "1", "PX", 60_000]))
        let vetoed = try await bucket.take(key: key, nowMs: t0 + 5_000, vetoKeys: [veto, other], using: redis)
        #expect(vetoed.vetoed && !vetoed.allowed)
        #expect(try await bucket.take(key: key, nowMs: t0 + 5_000, vetoKeys: [other, veto], using: redis).vetoed)
        // Nothing was spent while vetoed: the refilled token is still there.
        #expect(try await bucket.take(key: key, nowMs: t0 + 5_000, using: redis).allowed)
        await redis.close()
    }
}
