import Foundation
import Logging
import PostgresNIO
import Sagas
import ServiceKit

/// `saga_instances` and `saga_steps`, always on the caller's connection (inside its transaction).
struct SagaStore: Sendable {
    let logger: Logger

    /// An instance: loaded and locked for the transaction, or new and not yet written.
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

    /// Writes a new instance with the state its first transition left it in, and that timeline,
    /// in one statement.
    func insert(_ instance: Instance, state: SagaState, deadline: DeadlineUpdate, timeline: [SagaTimelineEntry], on connection: PostgresConnection) async throws {
        let (finished, wait) = Self.settle(state, deadline)
        try await connection.query("""
            WITH \(timelineOf: timeline), saga AS (
                INSERT INTO orders.saga_instances (id, saga_type, order_id, state, phase, data, deadline, version, finished_at)
                VALUES (\(instance.id), \(instance.kind.rawValue), \(instance.data.orderID), \(try Self.json(state))::jsonb,
                        \(Self.phaseName(state.phase)), \(try Self.json(instance.data))::jsonb,
                        clock_timestamp() + make_interval(secs => \(wait)::float8), \(instance.version),
                        CASE WHEN \(finished) THEN now() ELSE NULL END)
                RETURNING id
            )
            \(unescaped: Self.insertTimeline)
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

    /// What a transition does to the saga's deadline. A new deadline is a wait, turned into a
    /// time by the database's clock, the one the deadline scan compares it with: an orders
    /// instance whose own clock ran behind would otherwise write deadlines already past. The
    /// wait starts at the write (`clock_timestamp()`), not when the transaction began (`now()`):
    /// a transaction that first waited on a lock (a busy product row, a saga row the scan
    /// holds) would otherwise leave its command less than its wait, and time it out early.
    enum DeadlineUpdate: Sendable {
        case keep
        /// Due `after` from now; nil for none.
        case set(after: Duration?)
    }

    /// Writes the new state (checking the version read) and appends the timeline, in one
    /// statement: the timeline is written only when the version matched. A finished saga keeps
    /// its `finished_at`: a late reply it ignores is saved too, and must not move it.
    /// - Returns: For a finished saga, how long it ran (`finished_at − created_at`, both by the
    ///   database's clock) — also when it had finished before this save; nil while it runs.
    func save(_ instance: Instance, state: SagaState, deadline: DeadlineUpdate, timeline: [SagaTimelineEntry], on connection: PostgresConnection) async throws -> Duration? {
        let (finished, wait) = Self.settle(state, deadline)
        let keep = if case .keep = deadline { true } else { false }
        let rows = try await connection.query("""
            WITH \(timelineOf: timeline), saga AS (
                UPDATE orders.saga_instances
                SET state = \(try Self.json(state))::jsonb, phase = \(Self.phaseName(state.phase)),
                    deadline = CASE WHEN \(keep) THEN deadline ELSE clock_timestamp() + make_interval(secs => \(wait)::float8) END,
                    version = version + 1, updated_at = now(), finished_at = CASE WHEN \(finished) THEN coalesce(finished_at, now()) ELSE NULL END
                WHERE id = \(instance.id) AND version = \(instance.version)
                RETURNING id, extract(epoch FROM finished_at - created_at)::float8 AS ran
            ), appended AS (
                \(unescaped: Self.insertTimeline)
            )
            SELECT ran FROM saga
            """, logger: logger)
        for try await ran in rows.decode(Double?.self) {
            return ran.map { .seconds(max(0, $0)) }
        }
        throw ConcurrentModification()
    }

    /// Inserts the rows of the `timeline` CTE for the saga in the `saga` CTE, in order (a
    /// transition writes up to ~6; none when `saga` is empty).
    private static let insertTimeline = """
        INSERT INTO orders.saga_steps (saga_id, kind, step, command_id, attempt, detail)
        SELECT saga.id, timeline.kind, timeline.step, timeline.command_id, timeline.attempt, timeline.detail
        FROM saga, timeline ORDER BY timeline.position
        """

    /// A timeline entry as `jsonb_to_recordset` reads it (absent keys are NULL).
    fileprivate struct TimelineRow: Encodable {
        let kind: String
        let step: String?
        let command_id: UUID?
        let attempt: Int?
        let detail: String?

        init(_ entry: SagaTimelineEntry) {
            kind = entry.kind.rawValue
            step = entry.step
            command_id = entry.commandID
            attempt = entry.attempt
            detail = entry.detail
        }
    }

    /// Whether the saga finished, and the wait of its new deadline in seconds: nil for none
    /// (always once finished; `.keep` of a row not yet written is none too), or to keep the
    /// current one.
    private static func settle(_ state: SagaState, _ deadline: DeadlineUpdate) -> (finished: Bool, wait: Double?) {
        let finished = state.phase.isTerminal
        switch deadline {
        case .keep: return (finished, nil)
        case .set(let wait):
            guard !finished, let wait else { return (finished, nil) }
            return (finished, wait.fractionalMilliseconds / 1_000)
        }
    }

    /// Clears the deadline of a saga that waits for nothing.
    func clearDeadline(_ id: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("UPDATE orders.saga_instances SET deadline = NULL WHERE id = \(id)", logger: logger)
    }

    /// One saga whose deadline passed, locked (others skip it), with its state; nil when none is
    /// due. A state that cannot be decoded throws ``DueSagaFailed`` naming the saga.
    func lockDue(on connection: PostgresConnection) async throws -> (id: UUID, state: SagaState)? {
        let rows = try await connection.query("""
            SELECT id, state::text FROM orders.saga_instances WHERE deadline <= now() ORDER BY deadline LIMIT 1 FOR UPDATE SKIP LOCKED
            """, logger: logger)
        for try await (id, state) in rows.decode((UUID, String).self) {
            do {
                return (id, try JSONDecoder().decode(SagaState.self, from: Data(state.utf8)))
            } catch {
                throw DueSagaFailed(sagaID: id, underlying: error)
            }
        }
        return nil
    }

    /// Moves the deadline of saga `id` `wait` into the future (by the database's clock).
    func postponeDeadline(_ id: UUID, by wait: Duration, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE orders.saga_instances SET deadline = clock_timestamp() + make_interval(secs => \(Double(wait.components.seconds))::float8)
            WHERE id = \(id) AND deadline IS NOT NULL
            """, logger: logger)
    }

    /// A due saga whose deadline could not be handled, and why.
    struct DueSagaFailed: Error {
        let sagaID: UUID
        let underlying: any Error
    }

    static func phaseName(_ phase: SagaPhase) -> String {
        switch phase {
        case .notStarted: "not_started"
        case .forward(let step, _): "forward:\(step)"
        case .compensating(let step, _): "compensating:\(step)"
        case .succeeded: "succeeded"
        case .compensated: "compensated"
        case .halted: "halted"
        }
    }

    static func json(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }
}

extension PostgresQuery.StringInterpolation {
    /// `timeline AS (…)`: a transition's timeline rows (their JSON, bound as one parameter) as a
    /// CTE with a `position` column that keeps their order.
    fileprivate mutating func appendInterpolation(timelineOf entries: [SagaTimelineEntry]) throws {
        appendLiteral("timeline AS (SELECT * FROM ROWS FROM (jsonb_to_recordset(")
        appendInterpolation(try SagaStore.json(entries.map(SagaStore.TimelineRow.init)))
        appendLiteral("""
            ::jsonb) AS (kind text, step text, command_id uuid, attempt integer, detail text))
                WITH ORDINALITY AS row(kind, step, command_id, attempt, detail, position))
            """)
    }
}
