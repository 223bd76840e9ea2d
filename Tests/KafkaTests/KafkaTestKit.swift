import Foundation
import Kafka
import KafkaTestSupport
import Logging
import TestSupport
import Testing

/// Shared set-up for tests against the real broker (Tansu) that `make test` starts.
enum KafkaTestKit {
    static let logger = Logger(label: "kafka-tests")

    static func brokers() throws -> [String] { try KafkaTesting.brokers() }

    static func configuration(brokers: [String]? = nil, _ extra: [String: String] = [:]) throws -> KafkaConfiguration {
        try KafkaTesting.configuration(brokers: brokers, extra)
    }

    static func producerConfiguration(brokers: [String]? = nil, _ extra: [String: String] = [:]) throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: try brokers ?? self.brokers(), properties: ["message.timeout.ms": "10000"].merging(extra) { _, new in new })
    }

    /// A fresh topic with `partitions` partitions.
    static func topic(_ prefix: String, partitions: Int) async throws -> String {
        let name = "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try KafkaAdmin(configuration: try configuration(), logger: logger)
        let created = try await admin.createTopics([name], partitions: partitions)
        #expect(created == [name])
        return name
    }

    static func group(_ prefix: String) -> String {
        "test-\(prefix)-\(UUID().uuidString.prefix(8).lowercased())"
    }

    /// Reads the first `count` messages of `topic` with a fresh consumer in a new group
    /// (`groupPrefix`), then closes it.
    static func consume(_ topic: String, count: Int, groupPrefix: String) async throws -> [KafkaMessage] {
        let consumer = try KafkaConsumer(configuration: try configuration(), groupID: group(groupPrefix), topics: [topic], logger: logger)
        let received = try await collect(consumer, count: count)
        await consumer.close()
        return received
    }

    /// Reads messages until `count` arrived (marking each done) or the deadline passes.
    static func collect(_ consumer: KafkaConsumer, count: Int, deadline: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await KafkaTesting.collect(consumer, count: count, deadline: deadline)
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
