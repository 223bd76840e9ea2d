import Foundation
import Kafka
import TestSupport

/// What every test against the real broker (Tansu) needs: client settings that suit it and a
/// way to read until a condition holds, with a deadline.
public enum KafkaTesting {
    /// The brokers `make test` started.
    public static func brokers() throws -> [String] {
        try StackEnvironment.value("ORDERFLOW_KAFKA_BROKERS").split(separator: ",").map(String.init)
    }

    /// Client settings suited to Tansu: short group timeouts (its coordinator holds a JoinGroup
    /// for the rebalance timeout) and quick metadata refreshes.
    public static func configuration(brokers: [String]? = nil, _ extra: [String: String] = [:]) throws -> KafkaConfiguration {
        KafkaConfiguration(brokers: try brokers ?? self.brokers(), properties: [
            "session.timeout.ms": "6000",
            "max.poll.interval.ms": "10000",
            "heartbeat.interval.ms": "500",
            "topic.metadata.refresh.interval.ms": "2000",
        ].merging(extra) { _, new in new })
    }

    /// Reads messages until `count` arrived (marking each done) or the deadline passes.
    public static func collect(_ consumer: KafkaConsumer, count: Int, deadline: Duration = .seconds(60)) async throws -> [KafkaMessage] {
        try await collect(consumer, deadline: deadline, what: "\(count) messages arrived") { $0.count == count }
    }

    /// Reads messages (marking each done) until `isComplete` holds for what arrived so far.
    public static func collect(
        _ consumer: KafkaConsumer, deadline: Duration = .seconds(90), what: String = "the expected messages arrived",
        until isComplete: @escaping @Sendable ([KafkaMessage]) -> Bool
    ) async throws -> [KafkaMessage] {
        try await withThrowingTaskGroup(of: [KafkaMessage].self) { group in
            group.addTask {
                var received: [KafkaMessage] = []
                for await message in consumer.messages {
                    received.append(message)
                    do {
                        try consumer.markDone(message)
                    } catch let error as KafkaError where error.code == "_STATE" {
                        // Its partition was revoked (and maybe assigned again) since it was handed
                        // out: the next owner gets it again, which the caller's checks see.
                    }
                    if isComplete(received) { break }
                }
                return received
            }
            group.addTask {
                try await Task.sleep(for: deadline)
                throw Poll.TimedOut(what: what)
            }
            defer { group.cancelAll() }
            return try await group.next() ?? []
        }
    }
}
