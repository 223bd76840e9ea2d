import Foundation
import Kafka
import Logging
import TestSupport
import Testing

/// Shared set-up for tests against the real broker (Tansu) that `make test` starts.
enum KafkaTestKit {
    static let logger = Logger(label: "kafka-tests")

    static func brokers() throws -> [String] {
        try StackEnvironment.value("ORDERFLOW_KAFKA_BROKERS").split(separator: ",").map(String.init)
    }

    /// Client settings suited to Tansu: short group timeouts (its coordinator holds a JoinGroup
    /// for the rebalance timeout) and a short message timeout so failures surface quickly.
    static func configuration(brokers: [String]? = nil, _ extra: [String: String] = [:]) throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: try brokers ?? self.brokers(), properties: [
            "session.timeout.ms": "6000",
            "max.poll.interval.ms": "10000",
            "heartbeat.interval.ms": "500",
            "topic.metadata.refresh.interval.ms": "2000",
        ].merging(extra) { _, new in new })
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

    /// Reads messages until `count` arrived (marking each done) or the deadline passes.
    static func collect(_ consumer: KafkaConsumer, count: Int, deadline: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
            group.addTask {
                var received: [KafkaMessage] = []
                for await message in consumer.messages {
                    received.append(message)
                    try consumer.markDone(message)
                    if received.count == count { break }
                }
                return received
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw Poll.TimedOut(what: "\(count) messages arrived")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? []
        }
    }
}

extension String {
    var bytes: [UInt8] { Array(utf8) }
}
