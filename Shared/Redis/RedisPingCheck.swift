import NIOPosix
public import ServiceKit

/// Readiness probe for Redis: connects and sends `PING`, expecting `PONG`.
///
/// Uses a fresh connection per probe (so a restarted server is noticed without any reconnect
/// logic) on NIO's blocking thread pool, never on Swift's cooperative pool.
public struct RedisPingCheck: DependencyCheck {
    public let name = "redis"
    private let settings: RedisSettings
    private let timeout: Duration

    /// Creates a probe; `timeout` bounds both the connect and the command.
    public init(settings: RedisSettings, timeout: Duration = .milliseconds(1500)) {
        self.settings = settings
        self.timeout = timeout
    }

    public func check() async throws {
        let settings = self.settings
        let timeout = self.timeout
        try await NIOThreadPool.singleton.runIfActive {
            let connection = try RedisConnection(host: settings.host, port: settings.port, connectTimeout: timeout, commandTimeout: timeout)
            let reply = try connection.pipeline([RedisCommand("PING")])
            guard reply.first == .status("PONG") else { throw RedisError.server("unexpected reply to PING") }
        }
    }
}
