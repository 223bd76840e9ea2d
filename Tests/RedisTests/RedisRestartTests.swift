import Foundation
import Logging
import Redis
import TestSupport
import Testing

/// After redis-server restarts, the same client reconnects and commands succeed. Uses a
/// redis-server of its own so the shared one keeps running for other tests.
@Suite("Redis client across a server restart")
struct RedisRestartTests {
    @Test("commands succeed again after the server restarts, without a new client")
    func reconnects() async throws {
        try await PrivateStack.start("redis").use { stack in
            let settings = try #require(RedisSettings(url: try stack.value("ORDERFLOW_REDIS_URL")))
            let redis = RedisClient(configuration: RedisConfiguration(settings: settings), logger: Logger(label: "redis-tests"))
            #expect(try await redis.execute(RedisCommand("SET", "k", "before")) == .status("OK"))

            // Restart underneath the pooled (now idle) connection: no command in between.
            try await stack.stop("redis")
            try await stack.restart("redis")
            // The pooled connection is stale now; the very first command must succeed regardless
            // (the client finds it closed before any reply and retries once on a new connection).
            #expect(try await redis.execute(RedisCommand("SET", "k", "after")) == .status("OK"))
            #expect(try await redis.execute(RedisCommand("GET", "k")).text == "after")
            await redis.close()
        }
    }
}
