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
        // The held message is produced first; twenty on the other partition follow it.
        _ = try await producer.send(ProducerRecord(topic: topic, value: "held".bytes, partition: 0))
        _ = try await producer.send((0..<20).map { ProducerRecord(topic: topic, value: "flowing-\($0)".bytes, partition: 1) })
        var iterator = consumer.messages.makeAsyncIterator()
        for index in 0..<20 {
            let message = try #require(await iterator.next())
            #expect(message.valueText == "flowing-\(index)", "the paused partition delivered while paused")
        }

        consumer.resume(held)
        let resumed = try #require(await iterator.next())
        #expect(resumed.valueText == "held")
        #expect(resumed.partition == 0)
        await producer.close()
        await consumer.close()
    }

    @Test("kafka_consumer_lag is the high watermark minus the committed offset")
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
        try await consumer.commit()
        let series = "kafka_consumer_lag{group=\"\(group)\",topic=\"\(topic)\",partition=\"0\"}"
        // 50 produced, 10 committed: the gauge must settle at exactly 40.
        try await Poll.until("the lag gauge reports 40", deadline: .seconds(30)) {
            MetricsRegistry.render().split(separator: "\n").contains { $0 == "\(series) 40" || $0 == "\(series) 40.0" }
        }
        await consumer.close()
    }
}
