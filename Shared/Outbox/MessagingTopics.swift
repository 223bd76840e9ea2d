import Contracts
public import Kafka
public import Logging
public import ServiceKit

/// Creates the topics a service needs before it produces or consumes (idempotently).
public struct MessagingTopics: Sendable, Equatable {
    /// `KAFKA_TOPIC_PARTITIONS`: partitions of topics this service creates (default 6).
    public var partitions: Int
    /// `KAFKA_REPLICATION_FACTOR`: their replication factor (default 1; 3 on a real cluster).
    public var replicationFactor: Int

    /// `KAFKA_TOPIC_PARTITIONS`.
    public static let partitionsKey = SettingKey("kafka.topic.partitions", expecting: "an integer 1-1000")
    /// `KAFKA_REPLICATION_FACTOR`.
    public static let replicationFactorKey = SettingKey("kafka.replication.factor", expecting: "an integer 1-10")

    /// Creates settings.
    public init(partitions: Int = 6, replicationFactor: Int = 1) {
        self.partitions = partitions
        self.replicationFactor = replicationFactor
    }

    /// Reads `KAFKA_TOPIC_PARTITIONS` and `KAFKA_REPLICATION_FACTOR`.
    public static func read(from settings: Settings) throws(ConfigurationError) -> MessagingTopics {
        MessagingTopics(
            partitions: try settings.optionalParsed(partitionsKey) { Int($0).flatMap { (1...1_000).contains($0) ? $0 : nil } } ?? 6,
            replicationFactor: try settings.optionalParsed(replicationFactorKey) { Int($0).flatMap { (1...10).contains($0) ? $0 : nil } } ?? 1
        )
    }

    /// Every contract topic plus the dead-letter topic of each consumer in `consumers`.
    public static func names(consumers: [String]) -> [String] {
        Topic.all.map(\.rawValue) + consumers.map { Topic.deadLetters(consumer: $0).rawValue }
    }

    /// Creates the topics in `names` that do not exist yet.
    public func ensure(_ names: [String], kafka: KafkaConfiguration, logger: Logger) async throws {
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        let created = try await admin.createTopics(names, partitions: partitions, replicationFactor: replicationFactor)
        if !created.isEmpty {
            logger.info("created kafka topics", metadata: ["kafka.topics": "\(created.joined(separator: ","))", "kafka.partitions": "\(partitions)"])
        }
    }
}
