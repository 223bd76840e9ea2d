import NIOConcurrencyHelpers

/// Idle connections, reused most-recent-first. Connections are created on demand and dropped
/// when broken; the pool never holds more than its size.
final class ConnectionPool: Sendable {
    /// `@unchecked Sendable`: a connection is only ever used by the one thread that checked it out.
    struct Lease: @unchecked Sendable {
        let connection: RedisConnection
        /// Whether it came from the pool (it may have gone stale while idle).
        let wasIdle: Bool
    }

    private struct State {
        var idle: [Lease] = []
        var closed = false
    }

    private let state = NIOLockedValueBox(State())
    private let configuration: RedisConfiguration

    init(configuration: RedisConfiguration) {
        self.configuration = configuration
    }

    /// An idle connection, or a new one (blocking connect: call from a blocking thread).
    func checkOut() throws(RedisError) -> Lease {
        let taken = state.withLockedValue { state -> Result<Lease?, RedisError> in
            guard !state.closed else { return .failure(.closed) }
            return .success(state.idle.popLast())
        }
        if let idle = try taken.get() { return Lease(connection: idle.connection, wasIdle: true) }
        return try connectFresh()
    }

    /// A new connection, bypassing idle ones (blocking connect: call from a blocking thread).
    func connectFresh() throws(RedisError) -> Lease {
        let s = configuration.settings
        let connection = try RedisConnection(host: s.host, port: s.port, connectTimeout: configuration.connectTimeout, commandTimeout: configuration.commandTimeout)
        return Lease(connection: connection, wasIdle: false)
    }

    /// Returns a healthy connection; broken ones are dropped.
    func checkIn(_ lease: Lease) {
        guard !lease.connection.isBroken else { return }
        state.withLockedValue { state in
            if !state.closed, state.idle.count < configuration.poolSize { state.idle.append(lease) }
        }
    }

    /// Drops every idle connection and refuses new check-outs.
    func close() {
        state.withLockedValue { state in
            state.closed = true
            state.idle.removeAll()
        }
    }
}
