public import Foundation
public import Kafka
public import Logging
import NIOConcurrencyHelpers
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
///   and nothing later overtakes an undelivered message. A row that fails for good (a record
///   the broker or librdkafka refuses) is a barrier: nothing after it is sent until it is
///   retried, so the relay stalls on it (loudly: `outbox_publish_failures_total`, the oldest
///   unpublished age) rather than deliver its key out of order. A crash between delivery and
///   marking republishes the batch (consumers' inboxes absorb the duplicates).
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
    private let floorReport = NIOLockedValueBox<Int64>(0)
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
        // A record the broker refuses stops the client instead of leaving a gap that later
        // records of its partition fill ahead of its retry (PublishPipeline's barrier).
        kafka["enable.idempotence"] = "true"
        kafka["enable.gapless.guarantee"] = "true"
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

    /// The publish floor of the current leadership term (0 before the first fetch of a term):
    /// every outbox row at or below it is published or will never exist (ADR 0010).
    var publishFloor: Int64 { floorReport.withLockedValue { $0 } }

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
    /// Every statement on it, a standby's included, is under one ``QueryWatch``.
    private func serveOneConnection() async throws {
        var configuration = try database.connectionConfiguration()
        // Names the connection in pg_stat_activity (`orderflow-relay-<schema>`).
        configuration.options.additionalStartupParameters.append(("application_name", "orderflow-relay-\(schema)"))
        let connection = try await PostgresConnection.connect(configuration: configuration, id: 1, logger: logger)
        let watch = QueryWatch()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { [settings, logger] in try await watch.patrol(connection, limit: settings.statementLimit, logger: logger) }
                group.addTask {
                    try await self.standBy(on: connection, watch: watch)
                    try await self.lead(on: connection, watch: watch)
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        } catch {
            try? await connection.close()
            throw error
        }
        try? await connection.close()
    }

    private func standBy(on connection: PostgresConnection, watch: QueryWatch) async throws {
        let lockName = "orderflow.outbox.\(schema)"
        var announced = false
        while true {
            let acquired = try await watch.guarding { [logger] in
                let rows = try await connection.query("SELECT pg_try_advisory_lock(hashtextextended(\(lockName), 0))", logger: logger)
                var acquired = false
                for try await value in rows.decode(Bool.self) { acquired = value }
                return acquired
            }
            if acquired { return }
            if !announced {
                logger.info("another outbox relay leads; standing by")
                announced = true
            }
            try await Task.sleep(for: settings.leaderRetry)
        }
    }

    private func lead(on connection: PostgresConnection, watch: QueryWatch) async throws {
        leading.withLockedValue { $0 = true }
        metrics.leader.record(1)
        logger.info("leading the outbox relay")
        defer {
            leading.withLockedValue { $0 = false }
            metrics.leader.record(0)
        }
        let channel = MessagingTables.notificationChannel(schema: schema)
        let listening = watch.begin()
        defer { watch.end(listening) }
        try await connection.listen(on: channel) { notifications in
            watch.end(listening)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for try await _ in notifications { self.wake.signal() }
                    throw OutboxRelayError.notificationsEnded
                }
                group.addTask {
                    try await PublishPipeline(
                        connection: connection, schema: self.schema, producer: self.producer, settings: self.settings,
                        fault: self.fault, onDelivered: self.onDelivered, wake: self.wake, metrics: self.metrics,
                        floorReport: self.floorReport, watch: watch, logger: self.logger
                    ).run()
                }
                defer { group.cancelAll() }
                try await group.next()
            }
        }
    }
}
