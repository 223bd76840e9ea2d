import Foundation
import Logging
import PostgresNIO
import Sagas

/// `saga_instances` and `saga_steps`, always on the caller's connection (inside its transaction).
struct SagaStore: Sendable {
    let logger: Logger

    /// A loaded, locked instance.
    struct Instance: Sendable {
        let id: UUID
        let kind: SagaKind
        var state: SagaState
        let data: OrderSagaData
        let version: Int
    }

    /// Another transaction changed the instance first (the optimistic lock); the caller retries.
    struct ConcurrentModification: Error {}
    struct CorruptRow: Error {}

    func insert(id: UUID, kind: SagaKind, data: OrderSagaData, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO orders.saga_instances (id, saga_type, order_id, state, phase, data)
            VALUES (\(id), \(kind.rawValue), \(data.orderID), \(try Self.json(SagaState.initial))::jsonb, 'not_started', \(try Self.json(data))::jsonb)
            """, logger: logger)
    }

    /// The instance, locked until the transaction ends; nil when there is none.
    func lock(_ id: UUID, on connection: PostgresConnection) async throws -> Instance? {
        let rows = try await connection.query("""
            SELECT saga_type, state::text, data::text, version FROM orders.saga_instances WHERE id = \(id) FOR UPDATE
            """, logger: logger)
        for try await (kind, state, data, version) in rows.decode((String, String, String, Int).self) {
            guard let kind = SagaKind(rawValue: kind) else { throw CorruptRow() }
            return Instance(
                id: id, kind: kind, state: try JSONDecoder().decode(SagaState.self, from: Data(state.utf8)),
                data: try JSONDecoder().decode(OrderSagaData.self, from: Data(data.utf8)), version: version
            )
        }
        return nil
    }

    /// What happens to the instance's deadline.
    enum DeadlineUpdate: Sendable {
        case keep
        case set(Date?)
    }

    /// Writes the new state (checking the version read) and appends the timeline.
    func save(_ instance: Instance, state: SagaState, deadline: DeadlineUpdate, timeline: [SagaTimelineEntry], on connection: PostgresConnection) async throws {
        let finished = state.phase.isTerminal
        let (keep, newDeadline): (Bool, Date?) = switch deadline {
        case .keep: (true, nil)
        case .set(let date): (false, finished ? nil : date)
        }
        let rows = try await connection.query("""
            UPDATE orders.saga_instances
            SET state = \(try Self.json(state))::jsonb, phase = \(Self.phaseName(state.phase)),
                deadline = CASE WHEN \(keep) THEN deadline ELSE \(newDeadline) END,
                version = version + 1, updated_at = now(), finished_at = CASE WHEN \(finished) THEN now() ELSE NULL END
            WHERE id = \(instance.id) AND version = \(instance.version) RETURNING 1
            """, logger: logger)
        var updated = false
        for try await _ in rows { updated = true }
        guard updated else { throw ConcurrentModification() }
        for entry in timeline {
            try await connection.query("""
                INSERT INTO orders.saga_steps (saga_id, kind, step, command_id, attempt, detail)
                VALUES (\(instance.id), \(entry.kind.rawValue), \(entry.step), \(entry.commandID), \(entry.attempt), \(entry.detail))
                """, logger: logger)
        }
    }

    /// Clears the deadline of a saga that waits for nothing.
    func clearDeadline(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE orders.saga_instances SET deadline = NULL WHERE id = \(id)", logger: logger)
    }

    /// One saga whose deadline passed, locked (others skip it), with its state; nil when none is due.
    func lockDue(on connection: PostgresConnection) async throws -> (id: UUID, state: SagaState)? {
        let rows = try await connection.query("""
            SELECT id, state::text FROM orders.saga_instances WHERE deadline <= now() ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED
            """, logger: logger)
        for try await (id, state) in rows.decode((UUID, String).self) {
            return (id, try JSONDecoder().decode(SagaState.self, from: Data(state.utf8)))
        }
        return nil
    }

    static func phaseName(_ phase: SagaPhase) -> String {
        switch phase {
        case .notStarted: "not_started"
        case .forward(let step, _): "forward:\(step)"
        case .compensating(let step, _): "compensating:\(step)"
        case .succeeded: "succeeded"
        case .compensated: "compensated"
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}
