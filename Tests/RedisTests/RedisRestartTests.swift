import Foundation
import Logging
import Redis
import TestSupport
import Testing

/// After redis-server restarts, the same client reconnects and commands succeed. Uses a
/// redis-server of its own so the shared one keeps running for other tests.
@Suite("Redis client across a server restart or dropped connections")
struct RedisRestartTests {
    @Test("commands succeed again after the server restarts, without a new client")
    func reconnects() async throws {
        try await PrivateStack.start("redis").use { stack in
            let settings = try #require(RedisSettings(url: try stack.value("ORDERFLOW_REDIS_URL")))
            let redis = RedisClient(configuration: RedisTestKit.configuration(settings), logger: Logger(label: "redis-tests"))
            #expect(try await redis.execute(RedisCommand("SET", "k", "before")) == .status("OK"))

            // Restart underneath the idle connections: no command in between.
            try await stack.stop("redis")
            try await stack.restart("redis")
            // The connections are gone; the very first command must succeed regardless (the client
            // has seen them close and connects anew, or finds one closed before any reply and
            // retries once on a new connection).
            #expect(try await redis.execute(RedisCommand("SET", "k", "after")) == .status("OK"))
            #expect(try await redis.execute(RedisCommand("GET", "k")).text == "after")
            await redis.close()
        }
    }

    @Test("connections the server drops (CLIENT KILL) are replaced; concurrent commands all succeed")
    func killedConnections() async throws {
        try await PrivateStack.start("redis").use { stack in
            let settings = try #require(RedisSettings(url: try stack.value("ORDERFLOW_REDIS_URL")))
            let redis = RedisClient(configuration: RedisTestKit.configuration(settings), logger: Logger(label: "redis-tests"))
            let killer = RedisClient(configuration: RedisTestKit.configuration(settings), logger: Logger(label: "redis-tests"))
            for round in 0..<5 {
                // Open the client's connections, then have the server drop all of them.
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for _ in 0..<8 { group.addTask { _ = try await redis.execute(RedisCommand("PING")) } }
                    try await group.waitForAll()
                }
                let killed = try await killer.execute(RedisCommand("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"))
                #expect((killed.integer ?? 0) >= 1, "round \(round): nothing was killed")
                // Straight after: every command succeeds (new connection, or one retry when it
                // went out on a dropped one before the client noticed).
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for i in 0..<8 {
                        group.addTask {
                            let reply = try await redis.execute(RedisCommand("SET", "k\(i)", "\(round)"))
                            #expect(reply == .status("OK"))
                        }
                    }
                    try await group.waitForAll()
                }
            }
            await redis.close()
            await killer.close()
        }
    }
}
