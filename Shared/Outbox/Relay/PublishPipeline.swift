import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO

/// The leader's publishing for one leadership term, on the leadership connection.
///
/// Two tasks share a window of at most ``maximumInFlight`` batches:
/// - the **fetcher** reads unpublished rows in id order, skipping rows already in flight,
///   enqueues them on the producer (so the producer's order is the id order), and hands the
///   batch to the marker; when nothing is left it waits for a notification or the poll interval;
/// - the **marker** awaits each batch's delivery reports in order and marks the delivered rows
///   published in one statement.
///
/// So a new commit goes out while earlier batches are still being acknowledged or marked,
/// instead of waiting a whole round. Any error ends the term (the relay reconnects); rows not
/// yet marked are published again by the next term.
///
/// **A row that fails to publish is a barrier**: nothing later may overtake it, or its key would
/// arrive out of order when it is retried. The producer enqueues gaplessly (the first record
/// librdkafka refuses stops the batch; ``EnqueueOrdering``), and runs with
/// `enable.gapless.guarantee`, so a record the broker refuses stops that client (a fatal error)
/// before any later record of its partition is stored. Then the fetcher enqueues nothing new
/// until every batch in flight has settled (a client stopped by a fatal error has its records
/// purged, or they would never settle), waits ``OutboxRelaySettings/failureBackoff``, and
/// fetches again from the lowest unpublished row; within a term a failed client is replaced only
/// then, with nothing the term sent on it left unsettled.
struct PublishPipeline: Sendable {
    /// Batches enqueued and not yet marked.
    static let maximumInFlight = 4

    let connection: PostgresConnection
    let schema: String
    let producer: KafkaProducer
    let settings: OutboxRelaySettings
    let fault: RelayFault
    let onDelivered: (@Sendable ([UUID]) -> Void)?
    let wake: WakeSignal
    let metrics: OutboxMetrics
    /// Where the term's floor is reported (``OutboxRelay/publishFloor``).
    let floorReport: NIOLockedValueBox<Int64>
    /// The connection's statement watch (its patrol runs for the connection's life, in ``OutboxRelay``).
    let watch: QueryWatch
    let logger: Logger

    private struct Batch: Sendable {
        var rows: [OutboxRow]
        var pending: KafkaProducer.PendingDeliveries
    }

    private struct Window {
        var ids: Set<Int64> = []
        var batches = 0
        /// A batch had a record that failed: no new batch until the window has drained.
        var failed = false
        /// The number of the latest reading (``PublishFloor``).
        var lastReading = 0
        /// Transaction ids of marker statements, each assigned after the reading it names.
        var witnesses: [(readingsThrough: Int, transaction: Int64)] = []
    }

    func run() async throws {
        let window = NIOLockedValueBox(Window())
        let room = WakeSignal()
        let (batches, handOff) = AsyncStream.makeStream(of: Batch.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await fetch(into: handOff, window: window, room: room, watch: watch) }
            group.addTask { try await mark(batches, window: window, room: room, watch: watch) }
            defer { group.cancelAll() }
            try await group.next()
        }
    }

    private func fetch(
        into handOff: AsyncStream<Batch>.Continuation, window: NIOLockedValueBox<Window>, room: WakeSignal, watch: QueryWatch
    ) async throws {
        let clock = ContinuousClock()
        var nextMetrics = clock.now
        var nextPrune = clock.now
        var floor = PublishFloor()
        var lastFetchFoundNothing = false
        floorReport.withLockedValue { $0 = floor.floor }
        while true {
            try Task.checkCancellation()
            while window.withLockedValue({ $0.batches }) >= Self.maximumInFlight {
                await room.wait(atMost: .seconds(1))
                try Task.checkCancellation()
            }
            if window.withLockedValue({ $0.failed }) {
                while window.withLockedValue({ $0.batches }) > 0 {
                    // A client that failed for good sends nothing more: settle its records now.
                    producer.settleIfFailed()
                    await room.wait(atMost: .seconds(1))
                    try Task.checkCancellation()
                }
                window.withLockedValue { $0.failed = false }
                try await Task.sleep(for: settings.failureBackoff)
            }
            if clock.now >= nextMetrics {
                try await watch.guarding { try await refreshMetrics() }
                nextMetrics = clock.now + settings.metricsInterval
            }
            if clock.now >= nextPrune {
                // A backlog longer than one pass goes on right after the next fetch.
                let unfinished = try await prune(watch: watch)
                nextPrune = clock.now + (unfinished ? .zero : settings.pruneInterval)
            }
            let inFlight = window.withLockedValue { Array($0.ids) }
            // A fetch that finds rows brings a reading; after one that found none, a witnessed
            // reading would wait for the next burst, so the fetch takes a reading first.
            takeWitnesses(from: window, into: &floor)
            let (horizons, rows) = try await watch.guarding { [above = floor.floor, readFirst = lastFetchFoundNothing && floor.awaitsSettling] in
                try await fetchUnpublished(above: above, excluding: inFlight, readingFirst: readFirst)
            }
            lastFetchFoundNothing = rows.isEmpty
            takeWitnesses(from: window, into: &floor)
            for horizon in horizons {
                let reading = floor.observe(horizon)
                window.withLockedValue { $0.lastReading = reading }
            }
            floor.advance(lowestUnpublished: rows.first?.id, lowestInFlight: inFlight.min())
            floorReport.withLockedValue { [floor = floor.floor] in $0 = floor }
            if !rows.isEmpty {
                // Only the fetcher adds batches, so an empty window stays empty until this one. A
                // batch that failed while this fetch ran goes first: these rows (fetched without
                // its ids) wait for the barrier at the top of the loop.
                let admitted = window.withLockedValue { state -> Bool? in
                    guard !state.failed else { return nil }
                    defer {
                        state.ids.formUnion(rows.map(\.id))
                        state.batches += 1
                    }
                    return state.batches == 0
                }
                guard let nothingUnsettled = admitted else { continue }
                let pending = try await producer.enqueue(rows.map(\.message.record), ordering: .gapless(replacingFailedClient: nothingUnsettled))
                if pending.firstRefused != nil { window.withLockedValue { $0.failed = true } }
                handOff.yield(Batch(rows: rows, pending: pending))
            }
            if rows.count < settings.batchSize {
                await wake.wait(atMost: max(.zero, min(settings.pollInterval, nextMetrics - clock.now)))
            }
        }
    }

    /// Hands the marker's witnesses to the floor.
    private func takeWitnesses(from window: NIOLockedValueBox<Window>, into floor: inout PublishFloor) {
        for witness in window.withLockedValue({ state in defer { state.witnesses = [] }; return state.witnesses }) {
            floor.witness(readingsThrough: witness.readingsThrough, transaction: witness.transaction)
        }
    }

    private func mark(_ batches: AsyncStream<Batch>, window: NIOLockedValueBox<Window>, room: WakeSignal, watch: QueryWatch) async throws {
        for await batch in batches {
            // Stop waiting when the term ends (lost connection, shutdown); the deliveries carry on,
            // the rows stay unmarked, and the next term publishes them again (inboxes dedupe).
            guard let outcomes = await unlessCancelled({ await batch.pending.outcomes() }) else { throw CancellationError() }
            var delivered: [Int64] = []
            var deliveredIDs: [UUID] = []
            var firstFailure: (row: OutboxRow, error: KafkaError)?
            for (row, outcome) in zip(batch.rows, outcomes) {
                switch outcome {
                case .success:
                    delivered.append(row.id)
                    deliveredIDs.append(row.message.id)
                case .failure(let error):
                    if firstFailure == nil { firstFailure = (row, error) }
                }
            }
            if !deliveredIDs.isEmpty { onDelivered?(deliveredIDs) }
            if fault == .crashAfterProduceBeforeMark, !delivered.isEmpty {
                logger.warning("injected fault: crashing after produce, before marking", metadata: ["outbox.batch": "\(batch.rows.count)"])
                throw OutboxRelayError.crashed
            }
            if !delivered.isEmpty {
                // Sent after the fetch that took `reading` ended (one connection, one statement at
                // a time), so its transaction id witnesses that reading for the publish floor.
                let reading = window.withLockedValue { $0.lastReading }
                let transaction = try await watch.guarding { [delivered] in
                    try await markPublished(delivered)
                }
                window.withLockedValue { $0.witnesses.append((reading, transaction)) }
                metrics.published.increment(by: delivered.count)
            }
            metrics.batchSize.record(batch.rows.count)
            if let firstFailure {
                metrics.failures.increment(by: batch.rows.count - delivered.count)
                logger.error("outbox rows failed to publish; retrying", metadata: [
                    "outbox.failed": "\(batch.rows.count - delivered.count)", "outbox.first_failed_id": "\(firstFailure.row.id)",
                    "kafka.topic": "\(firstFailure.row.message.topic)", "error": "\(firstFailure.error)",
                ])
            }
            window.withLockedValue { state in
                state.ids.subtract(batch.rows.map(\.id))
                state.batches -= 1
                state.failed = state.failed || firstFailure != nil
            }
            room.signal()
        }
    }

    /// Marks rows published; returns the statement's transaction id. (Postgres runs a
    /// data-modifying `WITH` to completion whether or not the query reads it.)
    private func markPublished(_ ids: [Int64]) async throws -> Int64 {
        let rows = try await connection.query("""
            WITH marked AS (UPDATE \(unescaped: schema).outbox SET published_at = now() WHERE id = ANY(\(ids)))
            SELECT pg_current_xact_id()::text::int8
            """, logger: logger)
        var transaction: Int64?
        for try await id in rows.decode(Int64.self) { transaction = id }
        guard let transaction else { throw OutboxRelayError.missingRow }
        return transaction
    }

    /// The unpublished rows above `floor` (in id order, skipping those in flight), with the
    /// readings ``PublishFloor`` needs, oldest first: one taken by a statement of its own before
    /// the fetch when `readingFirst` (so witnessed readings settle even when nothing new is
    /// published), and one on each fetched row from the fetch's own snapshot (none when it finds
    /// nothing). Either is taken no later than the fetch's snapshot, so whatever it settles is
    /// visible to the fetch. (The reading rides on the rows instead of joining the fetch to a
    /// one-row snapshot query, whose plan took 2–3× as long to build on an idle connection.)
    private func fetchUnpublished(
        above floor: Int64, excluding inFlight: [Int64], readingFirst: Bool
    ) async throws -> ([OutboxHorizon], [OutboxRow]) {
        // The reading: the snapshot's xmin, then (evaluated after the snapshot was taken) the last id drawn.
        let reading = """
            pg_snapshot_xmin(pg_current_snapshot())::text::int8,
            (SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM \(schema).outbox_id_seq)
            """
        var horizons: [OutboxHorizon] = []
        if readingFirst {
            let rows = try await connection.query("SELECT \(unescaped: reading)", logger: logger)
            for try await (xmin, lastID) in rows.decode((Int64, Int64).self) {
                horizons.append(OutboxHorizon(oldestRunningTransaction: xmin, lastAllocatedID: lastID))
            }
            guard !horizons.isEmpty else { throw OutboxRelayError.missingRow }
        }
        let rows = try await connection.query("""
            SELECT \(unescaped: reading), id, message_id, topic, message_key, headers::text, payload
            FROM \(unescaped: schema).outbox
            WHERE published_at IS NULL AND id > \(floor) AND id <> ALL(\(inFlight))
            ORDER BY id LIMIT \(settings.batchSize)
            """, logger: logger)
        var result: [OutboxRow] = []
        result.reserveCapacity(settings.batchSize)
        for try await (xmin, lastID, id, messageID, topic, key, headers, payload)
            in rows.decode((Int64, Int64, Int64, UUID, String, String?, String, ByteBuffer?).self) {
            if result.isEmpty { horizons.append(OutboxHorizon(oldestRunningTransaction: xmin, lastAllocatedID: lastID)) }
            result.append(OutboxRow(id: id, message: OutboxMessage(
                id: messageID, topic: topic, key: key,
                headers: try HeaderCoding.decode(headers), payload: payload.map { Array($0.readableBytesView) }
            )))
        }
        return (horizons, result)
    }

    /// Backlog and oldest age, over the whole table: a row left below the floor would show here.
    private func refreshMetrics() async throws {
        let rows = try await connection.query("""
            SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8
            FROM \(unescaped: schema).outbox WHERE published_at IS NULL
            """, logger: logger)
        for try await (backlog, age) in rows.decode((Int64, Double).self) {
            metrics.backlog.record(backlog)
            metrics.oldestAge.record(age)
        }
    }

    /// One pruning pass: expired published rows, then expired inbox records, then the service's
    /// own ``OutboxRelaySettings/expiredRows``, each in at most
    /// ``OutboxRelaySettings/pruneChunksPerPass`` chunks; true when either has more left.
    /// Each chunk is its own guarded statement: guarding the whole pass as one let a large
    /// backlog (the first run of a retention, a long time without a leader) outlast the
    /// statement limit, which dropped the connection — and the next term pruned first again.
    private func prune(watch: QueryWatch) async throws -> Bool {
        let chunk = max(settings.pruneChunkRows, 1)
        let outboxLeft = try await deleteInChunks(watch: watch, chunk: chunk, """
            DELETE FROM \(schema).outbox WHERE id IN (
                SELECT id FROM \(schema).outbox
                WHERE published_at < now() - make_interval(secs => \(settings.retention.components.seconds)) ORDER BY id LIMIT \(chunk))
            """)
        let inboxLeft = try await deleteInChunks(watch: watch, chunk: chunk, """
            DELETE FROM \(schema).processed_messages WHERE (consumer, message_id) IN (
                SELECT consumer, message_id FROM \(schema).processed_messages
                WHERE processed_at < now() - make_interval(secs => \(settings.inboxRetention.components.seconds)) ORDER BY processed_at LIMIT \(chunk))
            """)
        var ownLeft = false
        for rows in settings.expiredRows {
            let left = try await deleteInChunks(watch: watch, chunk: chunk, """
                DELETE FROM \(rows.table) WHERE (\(rows.key)) IN (SELECT \(rows.key) FROM \(rows.table) WHERE \(rows.condition) LIMIT \(chunk))
                """)
            ownLeft = ownLeft || left
        }
        return outboxLeft || inboxLeft || ownLeft
    }

    /// Runs `delete` (a `DELETE` of at most one chunk; its text holds only the checked schema
    /// name, integers and the service's own ``ExpiredRows``) until it deletes less than a chunk, at most a pass's chunks; true
    /// when the last one deleted a whole chunk (more may be left).
    private func deleteInChunks(watch: QueryWatch, chunk: Int, _ delete: String) async throws -> Bool {
        for _ in 0..<max(settings.pruneChunksPerPass, 1) {
            try Task.checkCancellation()
            let deleted = try await watch.guarding { [connection, logger] in
                let rows = try await connection.query("WITH gone AS (\(unescaped: delete) RETURNING 1) SELECT count(*)::int8 FROM gone", logger: logger)
                var deleted = 0
                for try await count in rows.decode(Int.self) { deleted = count }
                return deleted
            }
            if deleted < chunk { return false }
        }
        return true
    }
}
