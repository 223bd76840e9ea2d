import Contracts
import Foundation
import Kafka
import Outbox
import TestSupport
import Testing

/// The `orderflow-dlq` executable against the real broker: it lists a consumer's dead letters and
/// replays one to its original topic unchanged.
@Suite("orderflow-dlq")
struct DeadLetterToolTests {
    @Test("list prints each dead letter with its reason; replay re-sends the original message")
    func listAndReplay() async throws {
        let binDir = try StackEnvironment.value("ORDERFLOW_BIN_DIR")
        let brokers = try OutboxTestKit.brokers().joined(separator: ",")
        let kafka = try OutboxTestKit.kafka()
        let topic = try await OutboxTestKit.topic("dlq-tool")
        let consumerName = "tool" + UUID().uuidString.prefix(8).lowercased()
        try await MessagingTopics(partitions: 1).ensure([Topic.deadLetters(consumer: consumerName).rawValue], kafka: kafka, logger: OutboxTestKit.logger)
        let event = try OutboxTestKit.event(note: "dead")
        let original = KafkaMessage(
            topicPartition: TopicPartition(topic: topic, partition: 0), offset: 41, key: Array("k".utf8), value: event.data,
            headers: OutboxTestKit.record(event, topic: topic).headers, timestampMs: nil
        )
        let producer = try KafkaProducer(configuration: kafka, logger: OutboxTestKit.logger)
        _ = try await producer.send(DeadLetter.record(for: original, consumer: consumerName, reason: "rejected by rule 7", at: Date()))
        await producer.close()

        let output = FileManager.default.temporaryDirectory.appendingPathComponent("dlq-\(consumerName).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        try await Script.run(["\(binDir)/orderflow-dlq", "list", consumerName, "--kafka-brokers", brokers], outputFile: output)
        let listing = try String(contentsOfFile: output, encoding: .utf8)
        #expect(listing.contains("rejected by rule 7"))
        #expect(listing.contains("0:0"))
        #expect(listing.contains("\(topic)[0]@41"))
        #expect(listing.contains("orderflow.users.user_registered.v1"))

        try await Script.run(["\(binDir)/orderflow-dlq", "replay", consumerName, "0:0", "--kafka-brokers", brokers], outputFile: output)
        let consumer = try KafkaConsumer(configuration: kafka, groupID: "test-dlq-tool-\(UUID().uuidString.prefix(8))",
                                         topics: [topic], logger: OutboxTestKit.logger)
        let replayed = try await OrderCheck.collect(consumer, count: 1)
        await consumer.close()
        #expect(replayed.first?.value == original.value)
        #expect(replayed.first?.key == original.key)
        #expect(replayed.first?.headers == original.headers, "replayed exactly as first sent, without dlq_ headers")
    }
}
