import NIOConcurrencyHelpers
import NIOPosix
public import ServiceKit

/// Readiness probe for Redis: connects and sends `PING`, expecting `PONG`.
///
/// Uses a fresh connection per probe (so a restarted server is noticed without any reconnect
/// logic) on NIO's blocking thread pool, never on Swift's cooperative pool. At most one probe is
/// in flight: checks that come while one runs share its outcome. A readiness endpoint polled
/// often while Redis hangs would otherwise queue a blocking probe per call on that small pool,
/// each holding a thread for up to twice the timeout, and starve what else needs the pool.
public struct RedisPingCheck: DependencyCheck {
    public let name = "redis"
    private let settings: RedisSettings
    private let timeout: Duration
    private let inFlight = SharedProbe()

    /// Creates a probe; `timeout` bounds both the connect and the command.
    public init(settings: RedisSettings, timeout: Duration = .milliseconds(1500)) {
        self.settings = settings
        self.timeout = timeout
    }

    public func check() async throws {
        let settings = self.settings
        let timeout = self.timeout
        try await inFlight.run {
            try await NIOThreadPool.singleton.runIfActive {
                let connection = try RedisConnection(host: settings.host, port: settings.port, connectTimeout: timeout, commandTimeout: timeout)
                let reply = try connection.pipeline([RedisCommand("PING")])
                guard reply.first == .status("PONG") else { throw RedisError.server("unexpected reply to PING") }
            }
        }
    }
}

/// One probe at a time: a caller joins the probe in flight, or starts one.
private final class SharedProbe: Sendable {
    private let current = NIOLockedValueBox<Task<Void, any Error>?>(nil)

    func run(_ probe: @escaping @Sendable () async throws -> Void) async throws {
        let task = current.withLockedValue { current -> Task<Void, any Error> in
            if let current { return current }
            // The task cannot clear the slot before it is filled: clearing takes the same lock.
            let started = Task {
                defer { self.current.withLockedValue { $0 = nil } }
                try await probe()
            }
            current = started
            return started
        }
        try await task.value
    }
}
