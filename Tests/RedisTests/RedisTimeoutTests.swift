import Logging
import Redis
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A server that stops answering makes a command fail after the command timeout instead of
/// hanging; once it answers again, the client works without being recreated.
@Suite("Redis command timeout")
struct RedisTimeoutTests {
    @Test("a frozen server fails the command with connectionLost after the timeout, then recovers")
    func frozenServer() async throws {
        try await PrivateStack.start("redis").use { stack in
            let pid = try stack.pid("redis")
            defer { kill(pid, SIGCONT) }
            let settings = try #require(RedisSettings(url: try stack.value("ORDERFLOW_REDIS_URL")))
            let redis = RedisClient(
                configuration: RedisConfiguration(settings: settings, commandTimeout: .milliseconds(500)),
                logger: Logger(label: "redis-tests")
            )
            #expect(try await redis.execute(RedisCommand("PING")) == .status("PONG"))
            try await stack.freeze("redis")
            do {
                _ = try await redis.execute(RedisCommand("PING"))
                Issue.record("a frozen server should time out")
            } catch let error as RedisError {
                guard case .connectionLost = error else { Issue.record("unexpected \(error)"); return }
            }
            kill(pid, SIGCONT)
            try await Poll.until("commands work again") { (try? await redis.execute(RedisCommand("PING"))) == .status("PONG") }
            await redis.close()
        }
    }
}
