public import Foundation
public import Kafka
public import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOCore
import PostgresNIO
public import ServiceKit
public import ServiceLifecycle

/// Publishes a service's outbox to Kafka: one active relay per schema, in commit order per key.
///
/// - **Leadership**: each relay opens one dedicated connection and takes the session-level
///   advisory lock `orderflow.outbox.<schema>`. The holder publishes; the others stand by and
///   retry every ``OutboxRelaySettings/leaderRetry``. When the leader's process dies its
///   connection closes, the lock is released, and a standby takes over.
/// - **Waking**: the leader `LISTEN`s on the channel the outbox's insert trigger notifies on
///   commit, and polls every ``OutboxRelaySettings/pollInterval`` as a fallback.
/// - **Publishing**: it reads up to ``OutboxRelaySettings/batchSize`` unpublished rows in id
///   order, enqueues them all on an idempotent producer, awaits every delivery report, then
///   marks the delivered rows published in one statement. The producer never times a message
///   out (`message.timeout.ms=0`): while the broker is away the batch waits, the backlog grows,
///   and nothing later overtakes an undelivered message. A crash between delivery and marking
///   republishes the batch (consumers' inboxes absorb the duplicates).
/// - **Stopping**: on graceful shutdown or cancellation the relay stops waiting for the current
///   batch, drops its connection (releasing leadership) and closes the producer, flushing for at
///   most 5 s; rows whose delivery was not confirmed stay unpublished for the next leader.
/// - **Housekeeping**: metrics `outbox_backlog`, `outbox_oldest_unpublished_age_seconds`,
///   `outbox_published_total`, `outbox_publish_failures_total`, `outbox_batch_size` and
///   `outbox_relay_leader`; published rows older than the retention are deleted.
public final class OutboxRelay: Service, Sendable {
    /// The schema whose outbox this relay publishes.
    public let schema: String
    private let database: DatabaseURL
    private let producer: KafkaProducer
    private let settings: OutboxRelaySettings
    private let fault: RelayFault
    private let onDelivered: (@Sendable ([UUID]) -> Void)?
    private let startGate: Latch?
    private let logger: Logger
    private let metrics: OutboxMetrics
    private let leading = NIOLockedValueBox(false)
    private let wake = WakeSignal()

    /// Creates a relay (it connects when run).
    /// - Parameters:
    ///   - onDelivered: Called with the message ids of each batch the broker acknowledged,
    ///     before they are marked published (benchmarks time delivery with it).
    ///   - startGate: When given, the relay waits for it to open before connecting (a service
    ///     opens it once its migrations, which create the outbox, have run).
    public init(
        schema: String, database: DatabaseURL, kafka: KafkaConfiguration,
        settings: OutboxRelaySettings = OutboxRelaySettings(), fault: RelayFault = .none,
        onDelivered: (@Sendable ([UUID]) -> Void)? = nil, startGate: Latch? = nil, logger: Logger
    ) throws {
        guard MigrationRunner.isPlainIdentifier(schema) else { throw MigrationError.invalidSchema(schema) }
        var kafka = kafka
        kafka["message.timeout.ms"] = "0"
        // The relay hands librdkafka whole batches at once, so lingering only adds latency.
        if kafka["linger.ms"] == nil { kafka["linger.ms"] = "1" }
        self.schema = schema
        self.database = database
        self.producer = try KafkaProducer(configuration: kafka, logger: logger)
        self.settings = settings
        self.fault = fault
        self.onDelivered = onDelivered
        self.startGate = startGate
        var logger = logger
        logger[metadataKey: "outbox.schema"] = "\(schema)"
        self.logger = logger
        self.metrics = OutboxMetrics(schema: schema)
    }

    /// Whether this relay currently holds the leadership lock.
    public var isLeader: Bool { leading.withLockedValue { $0 } }

    /// Campaigns for leadership and publishes while leader, until graceful shutdown or
    /// cancellation; then closes the producer.
    public func run() async throws {
        do {
            try await cancelWhenGracefulShutdown { try await self.campaign() }
        } catch {
            await producer.close(flushTimeout: .seconds(5))
            throw error
        }
        await producer.close(flushTimeout: .seconds(5))
    }

    private func campaign() async throws {
        if let startGate { await startGate.wait() }
        while !Task.isCancelled {
            do {
                try await serveOneConnection()
            } catch OutboxRelayError.crashed {
                throw OutboxRelayError.crashed
            } catch {
                if Task.isCancelled { return }
                logger.warning("outbox relay lost its database connection; reconnecting", metadata: ["error": "\(String(reflecting: error))"])
            }
            try? await Task.sleep(for: settings.leaderRetry)
        }
    }

    /// One connection's life: stand by until the lock is ours, then lead until something fails.
    private func serveOneConnection() async throws {
        let connection = try await PostgresConnection.connect(
            configuration: try database.connectionConfiguration(), id: 1, logger: logger
        )
        do {
            try await standBy(on: connection)
            try await lead(on: connection)
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private func standBy(on connection: PostgresConnection) async throws {
        let lockName = "orderflow.outbox.\(schema)"
        var announced = false
        while true {
            let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended(\(lockName), 0))", logger: logger)
            var acquired = false
            for try await value in rows.decode(Bool.self) { acquired = value }
            if acquired { return }
            if !announced {
                logger.info("another outbox relay leads; standing by")
                announced = true
            }
            try await Task.sleep(for: settings.leaderRetry)
        }
    }

    private func lead(on connection: PostgresConnection) async throws {
        leading.withLockedValue { $0 = true }
        metrics.leader.record(1)
        logger.info("leading the outbox relay")
        defer {
            leading.withLockedValue { $0 = false }
            metrics.leader.record(0)
        }
        let channel = MessagingTables.notificationChannel(schema: schema)
        try await connection.listen(on: channel) { notifications in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { self.wake.signal() }
                    throw OutboxRelayError.notificationsEnded
                }
                group.addTask { try await self.publishLoop(on: connection) }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }

    private enum BatchOutcome { case empty, partial, full, failed }

    private func publishLoop(on connection: PostgresConnection) async throws {
        let clock = ContinuousClock()
        var nextMetrics = clock.now
        var nextPrune = clock.now
        while true {
            try Task.checkCancellation()
            let outcome = try await publishBatch(on: connection)
            if clock.now >= nextMetrics {
                try await refreshMetrics(on: connection)
                nextMetrics = clock.now + settings.metricsInterval
            }
            if clock.now >= nextPrune {
                try await prune(on: connection)
                nextPrune = clock.now + settings.pruneInterval
            }
            switch outcome {
            case .full: continue
            case .empty, .partial: await wake.wait(atMost: min(settings.pollInterval, nextMetrics - clock.now))
            case .failed: try await Task.sleep(for: settings.failureBackoff)
            }
        }
    }

    private func publishBatch(on connection: PostgresConnection) async throws -> BatchOutcome {
        let rows = try await fetchUnpublished(on: connection)
        guard !rows.isEmpty else { return .empty }
        let pending = try await producer.enqueue(rows.map(\.record))
        // Stop waiting when this term ends (lost connection, shutdown); the deliveries carry on,
        // the rows stay unmarked, and the next term publishes them again (inboxes dedupe).
        guard let outcomes = await unlessCancelled({ await pending.outcomes() }) else { throw CancellationError() }
        var delivered: [Int64] = []
        var deliveredIDs: [UUID] = []
        var firstFailure: (row: OutboxRow, error: KafkaError)?
        for (row, outcome) in zip(rows, outcomes) {
            switch outcome {
            case .success:
                delivered.append(row.id)
                deliveredIDs.append(row.messageID)
            case .failure(let error):
                if firstFailure == nil { firstFailure = (row, error) }
            }
        }
        if !deliveredIDs.isEmpty { onDelivered?(deliveredIDs) }
        if fault == .crashAfterProduceBeforeMark, !delivered.isEmpty {
            logger.warning("injected fault: crashing after produce, before marking", metadata: ["outbox.batch": "\(rows.count)"])
            throw OutboxRelayError.crashed
        }
        if !delivered.isEmpty {
            try await connection.query(
                "UPDATE \(unescaped: schema).outbox SET published_at = now() WHERE id = ANY(\(delivered))", logger: logger
            )
            metrics.published.increment(by: delivered.count)
        }
        metrics.batchSize.record(rows.count)
        if let firstFailure {
            metrics.failures.increment(by: rows.count - delivered.count)
            logger.error("outbox rows failed to publish; retrying", metadata: [
                "outbox.failed": "\(rows.count - delivered.count)", "outbox.first_failed_id": "\(firstFailure.row.id)",
                "kafka.topic": "\(firstFailure.row.topic)", "error": "\(firstFailure.error)",
            ])
            return .failed
        }
        return rows.count == settings.batchSize ? .full : .partial
    }

    private func fetchUnpublished(on connection: PostgresConnection) async throws -> [OutboxRow] {
        let rows = try await connection.query("""
            SELECT id, message_id, topic, message_key, headers::text, payload
            FROM \(unescaped: schema).outbox WHERE published_at IS NULL ORDER BY id LIMIT \(settings.batchSize)
            """, logger: logger)
        var result: [OutboxRow] = []
        result.reserveCapacity(settings.batchSize)
        for try await (id, messageID, topic, key, headers, payload) in rows.decode((Int64, UUID, String, String?, String, ByteBuffer?).self) {
            result.append(OutboxRow(
                id: id, messageID: messageID, topic: topic, key: key,
                headers: try HeaderCoding.decode(headers), payload: payload.map { Array($0.readableBytesView) }
            ))
        }
        return result
    }

    private func refreshMetrics(on connection: PostgresConnection) async throws {
        let rows = try await connection.query("""
            SELECT count(*), COALESCE(EXTRACT(EPOCH FROM clock_timestamp() - min(created_at)), 0)::float8
            FROM \(unescaped: schema).outbox WHERE published_at IS NULL
            """, logger: logger)
        for try await (backlog, age) in rows.decode((Int64, Double).self) {
            metrics.backlog.record(backlog)
            metrics.oldestAge.record(age)
        }
    }

    /// Deletes expired published rows in chunks of 10,000 until a chunk comes back short.
    private func prune(on connection: PostgresConnection) async throws {
        let seconds = Double(settings.retention.components.seconds)
        var deleted = 10_000
        while deleted == 10_000 {
            try Task.checkCancellation()
            let rows = try await connection.query("""
                WITH gone AS (
                    DELETE FROM \(unescaped: schema).outbox WHERE id IN (
                        SELECT id FROM \(unescaped: schema).outbox
                        WHERE published_at < now() - make_interval(secs => \(seconds)) ORDER BY id LIMIT 10000)
                    RETURNING 1)
                SELECT count(*)::int8 FROM gone
                """, logger: logger)
            deleted = 0
            for try await count in rows.decode(Int.self) { deleted = count }
        }
    }
}
