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
        let root = try StackEnvironment.value("ORDERFLOW_ROOT")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("of-redis-restart-\(UUID().uuidString.prefix(8))").path
        let stack = "\(root)/deploy/local/stack.sh"
        try await Script.run(["bash", stack, "start", directory, "redis"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        do {
            let env = try String(contentsOfFile: "\(directory)/stack.env", encoding: .utf8)
            let url = try #require(env.split(separator: "\n").first { $0.hasPrefix("ORDERFLOW_REDIS_URL=") }?.dropFirst("ORDERFLOW_REDIS_URL=".count))
            let settings = try #require(RedisSettings(url: String(url)))
            let redis = RedisClient(configuration: RedisConfiguration(settings: settings, poolSize: 2), logger: Logger(label: "redis-tests"))
            #expect(try await redis.execute(RedisCommand("SET", "k", "before")) == .status("OK"))

            try await Script.run(["bash", stack, "stop", directory, "redis"])
            do {
                _ = try await redis.execute(RedisCommand("GET", "k"))
                Issue.record("a command with the server down should fail")
            } catch {
                #expect(error == .connectFailed("Connection refused") || { if case .connectionLost = error { true } else { false } }())
            }

            try await Script.run(["bash", stack, "start", directory, "redis"])
            // The pooled connection is stale now; the client must replace it on its own.
            #expect(try await redis.execute(RedisCommand("SET", "k", "after")) == .status("OK"))
            #expect(try await redis.execute(RedisCommand("GET", "k")).text == "after")
            await redis.close()
        } catch {
            try? await Script.run(["bash", stack, "stop", directory])
            throw error
        }
        try await Script.run(["bash", stack, "stop", directory])
    }
}
