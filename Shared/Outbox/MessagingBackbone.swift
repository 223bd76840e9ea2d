public import Hummingbird
public import Kafka
public import Logging
public import ServiceKit

/// A service's messaging: its outbox, the relay publishing it, and the topics it needs.
///
/// ```swift
/// let messaging = try MessagingBackbone(service: "users", schema: "users", settings: settings,
///                                       database: databaseSettings, kafka: kafkaSettings, logger: logger)
/// let database = try ServiceDatabase(..., additionalMigrations: messaging.migrations, logger: logger)
/// var app = ServiceApplication.orderFlowService(common, database: database, checks: [...], logger: logger)
/// app.addMessaging(messaging, logger: logger)
/// ```
public struct MessagingBackbone: Sendable {
    /// Where handlers and routes append messages.
    public let outbox: Outbox
    /// The relay (a `Service`).
    public let relay: OutboxRelay
    /// The Kafka client settings the service's clients share.
    public let kafka: KafkaConfiguration
    /// Partitions and replication of the topics the service creates.
    public let topics: MessagingTopics
    /// The `outbox` and `processed_messages` tables, for ``ServiceDatabase``.
    public let migrations: [Migration]
    /// The group settings of the service's consumers (`KAFKA_SESSION_TIMEOUT_MS`,
    /// `KAFKA_MAX_POLL_INTERVAL_MS`) on top of ``kafka``.
    public let consumerKafka: KafkaConfiguration
    let migrated = Latch()

    /// `KAFKA_SESSION_TIMEOUT_MS`: how long a silent consumer keeps its partitions (default 10 s).
    public static let sessionTimeoutKey = SettingKey("kafka.session.timeout.ms", expecting: "milliseconds 1000-300000")
    /// `KAFKA_FETCH_WAIT_MAX_MS`: how long a fetch may wait at the broker for data (librdkafka's
    /// `fetch.wait.max.ms`, default 10 here instead of librdkafka's 500). Tansu appears to hold a
    /// fetch for this long even when data arrives meanwhile: with 500 a saga's four Kafka hops
    /// took a p50 of 659 ms at 49 sagas/s, with 10 it took 136 ms (`make bench-saga`, same machine).
    /// The price is more idle fetch requests; raise it on Apache Kafka, which answers at once.
    public static let fetchWaitKey = SettingKey("kafka.fetch.wait.max.ms", expecting: "milliseconds 1-10000")
    /// `KAFKA_MAX_POLL_INTERVAL_MS`: also the rebalance timeout a joining member may wait (default 30 s).
    public static let maxPollIntervalKey = SettingKey("kafka.max.poll.interval.ms", expecting: "milliseconds 1000-3600000")

    /// Reads `OUTBOX_*`, `KAFKA_TOPIC_PARTITIONS` and `KAFKA_REPLICATION_FACTOR`, and builds the
    /// relay, whose leader also prunes `expiredRows`.
    public init(
        service: String, schema: String, settings: Settings, database: DatabaseSettings, kafka: KafkaSettings,
        expiredRows: [ExpiredRows] = [], logger: Logger
    ) throws {
        let configuration = KafkaConfiguration(brokers: kafka.brokers)
        self.outbox = try Outbox(schema: schema, source: service)
        self.kafka = configuration
        self.topics = try MessagingTopics.read(from: settings)
        let session = try settings.optionalParsed(Self.sessionTimeoutKey) { Int($0).flatMap { (1_000...300_000).contains($0) ? $0 : nil } } ?? 10_000
        let maxPoll = try settings.optionalParsed(Self.maxPollIntervalKey) { Int($0).flatMap { (1_000...3_600_000).contains($0) ? $0 : nil } } ?? 30_000
        var consumerKafka = configuration
        consumerKafka["session.timeout.ms"] = String(session)
        consumerKafka["heartbeat.interval.ms"] = String(max(200, session / 5))
        consumerKafka["max.poll.interval.ms"] = String(max(maxPoll, session))
        let fetchWait = try settings.optionalParsed(Self.fetchWaitKey) { Int($0).flatMap { (1...10_000).contains($0) ? $0 : nil } } ?? 10
        consumerKafka["fetch.wait.max.ms"] = String(fetchWait)
        self.consumerKafka = consumerKafka
        self.migrations = try MessagingTables.migrations(schema: schema)
        var relaySettings = try OutboxRelaySettings.read(from: settings)
        relaySettings.expiredRows = expiredRows
        self.relay = try OutboxRelay(
            schema: schema, database: database.url, kafka: configuration,
            settings: relaySettings, startGate: migrated, logger: logger
        )
    }

    /// Opens the relay's start gate; call once the migrations ran.
    func markMigrated() { migrated.open() }
}

extension ServiceApplication {
    /// Creates the topics (and the dead-letter topics of `consumers`) before the server starts,
    /// and runs the relay once the service's migrations have created its outbox.
    /// Call after the database was added, so its migrations run first.
    public mutating func addMessaging(_ messaging: MessagingBackbone, consumers: [String] = [], logger: Logger) {
        addServices(messaging.relay)
        beforeServerStarts {
            try await messaging.topics.ensure(MessagingTopics.names(consumers: consumers), kafka: messaging.kafka, logger: logger)
            messaging.markMigrated()
        }
    }
}
