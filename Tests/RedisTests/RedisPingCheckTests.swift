import Foundation
import Logging
import Redis
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The readiness probe against a real server: it answers, and while the server hangs, many
/// concurrent checks share one probe instead of queuing one blocking probe each.
@Suite("Redis readiness probe")
struct RedisPingCheckTests {
    @Test("concurrent checks against a frozen server share one probe (one connection), and the probe passes again once it answers")
    func frozenServerOneProbe() async throws {
        try await PrivateStack.start("redis").use { stack in
            let pid = try stack.pid("redis")
            defer { kill(pid, SIGCONT) }
            let settings = try #require(RedisSettings(url: try stack.value("ORDERFLOW_REDIS_URL")))
            let redis = RedisClient(configuration: RedisConfiguration(settings: settings), logger: Logger(label: "redis-tests"))
            let probe = RedisPingCheck(settings: settings, timeout: .milliseconds(500))
            try await probe.check()
            let before = try await Self.connectionsReceived(redis)

            try await stack.freeze("redis")
            let failures = await withTaskGroup(of: Bool.self) { group in
                for _ in 0..<20 { group.addTask { (try? await probe.check()) == nil } }
                return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(failures == 20, "every check against the frozen server fails")
            kill(pid, SIGCONT)
            try await Poll.until("the probe passes again") { (try? await probe.check()) != nil }
            // The frozen server's kernel queued each probe's connection; counted once it runs.
            // The client's own connection and the last probes add a few; twenty would show here.
            let during = try await Self.connectionsReceived(redis) - before
            #expect(during <= 6, "\(during) connections: the checks did not share a probe")
            await redis.close()
        }
    }

    /// Redis's `total_connections_received`.
    static func connectionsReceived(_ redis: RedisClient) async throws -> Int {
        guard case .bulk(let bytes) = try await redis.execute(RedisCommand("INFO", "stats")) else { return -1 }
        let line = String(decoding: bytes, as: UTF8.self).split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_connections_received:") }
        return line.flatMap { Int($0.split(separator: ":")[1]) } ?? -1
    }
}
