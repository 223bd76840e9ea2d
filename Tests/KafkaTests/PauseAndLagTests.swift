import Kafka
import Metrics
import ServiceKit
import TestSupport
import Testing

/// Pausing a partition (for backoff) holds its messages back while others flow; the lag gauge
/// reports what is waiting.
@Suite("Kafka consumer pause/resume and lag (real broker)")
struct PauseAndLagTests {
    @Test("a paused partition delivers nothing until resumed; other partitions keep flowing")
    func pauseResume() async throws {
        let topic = try await KafkaTestKit.topic("pause", partitions: 2)
        let consumer = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: KafkaTestKit.group("pause"), topics: [topic], logger: KafkaTestKit.logger)
        try await Poll.until("partitions assigned") { consumer.assignedPartitions.count == 2 }
        let held = TopicPartition(topic: topic, partition: 0)
        consumer.pause(held)

        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        _ = try await producer.send([
            ProducerRecord(topic: topic, value: "held".bytes, partition: 0),
            ProducerRecord(topic: topic, value: "flowing".bytes, partition: 1),
        ])
        var iterator = consumer.messages.makeAsyncIterator()
        let first = try #require(await iterator.next())
        #expect(first.valueText == "flowing", "the paused partition delivered first")

        // Both were fetched-eligible at the same time; only the unpaused one arrived. Now resume.
        consumer.resume(held)
        let second = try #require(await iterator.next())
        #expect(second.valueText == "held")
        #expect(second.partition == 0)
        await producer.close()
        await consumer.close()
    }

    @Test("kafka_consumer_lag reports the messages not yet consumed")
    func lagGauge() async throws {
        try Observability.bootstrap(service: "kafka-tests", logLevel: .critical)
        let topic = try await KafkaTestKit.topic("lag", partitions: 1)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        _ = try await producer.send((0..<50).map { ProducerRecord(topic: topic, value: "\($0)".bytes) })
        await producer.close()

        let group = KafkaTestKit.group("lag")
        // Read 10 and mark them done; the consumer's position is then 10 of 50.
        let consumer = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: group, topics: [topic], bufferCapacity: 10, logger: KafkaTestKit.logger)
        _ = try await KafkaTestKit.collect(consumer, count: 10)
        let series = "kafka_consumer_lag{group=\"\(group)\",topic=\"\(topic)\",partition=\"0\"}"
        do {
            try await Poll.until("the lag gauge is published", deadline: .seconds(30)) {
                MetricsRegistry.render().split(separator: "\n").contains { $0.hasPrefix(series) }
            }
        } catch {
            Issue.record("published: \(MetricsRegistry.render().split(separator: "\n").filter { $0.contains("kafka_consumer_lag") })")
            throw error
        }
        let line = try #require(MetricsRegistry.render().split(separator: "\n").first { $0.hasPrefix(series) })
        let lag = try #require(Double(line.split(separator: " ").last ?? ""))
        #expect(lag > 0 && lag <= 50)
        await consumer.close()
    }
}
