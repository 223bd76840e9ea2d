import Logging
import NIOConcurrencyHelpers
import PostgresNIO

/// Drops the relay's connection when one of its statements runs far too long.
///
/// PostgresNIO statements do not react to task cancellation, so a statement stuck on a
/// connection that died without the client noticing would hold the term (or a standby's
/// campaign) forever. One watch covers a connection's whole life. The watch
/// notes when each statement starts; ``patrol(_:limit:logger:)`` closes the connection when one
/// has been running longer than `limit`, which fails the statement and ends the term (the relay
/// then reconnects and campaigns again).
final class QueryWatch: Sendable {
    private struct State {
        var nextID = 0
        var running: [Int: ContinuousClock.Instant] = [:]
    }

    private let state = NIOLockedValueBox(State())

    /// Runs `statement`, noting its start for the patrol; a cancelled caller stops waiting for it
    /// (see ``abandonable(_:)``), since the patrol is cancelled along with it.
    @discardableResult
    func guarding<T: Sendable>(_ statement: @escaping @Sendable () async throws -> T) async throws -> T {
        let id = begin()
        defer { end(id) }
        return try await abandonable(statement)
    }

    /// Notes the start of a statement run outside ``guarding(_:)`` (the `LISTEN` that opens a
    /// notification stream); ``end(_:)`` it with the returned id (more than once is harmless).
    func begin() -> Int {
        state.withLockedValue { state -> Int in
            defer { state.nextID += 1 }
            state.running[state.nextID] = .now
            return state.nextID
        }
    }

    /// Notes that the statement ``begin()`` returned `id` for has ended.
    func end(_ id: Int) {
        _ = state.withLockedValue { $0.running.removeValue(forKey: id) }
    }

    /// Checks every second until cancelled; closes `connection` and throws when a statement has
    /// run longer than `limit`.
    func patrol(_ connection: PostgresConnection, limit: Duration, logger: Logger) async throws {
        while true {
            try await Task.sleep(for: .seconds(1))
            let oldest = state.withLockedValue { $0.running.values.min() }
            if let oldest, ContinuousClock.now - oldest > limit {
                logger.error("an outbox relay statement has been running too long; dropping the connection", metadata: [
                    "outbox.statement_limit_ms": "\(limit.components.seconds * 1_000)",
                ])
                try? await connection.close()
                throw OutboxRelayError.statementStalled
            }
        }
    }
}
