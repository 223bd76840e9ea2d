import Kafka
import NIOConcurrencyHelpers
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

/// Flow control pauses a partition whose handler is stuck on its own, without holding back the
/// others (a message retried for a long time must not stop a whole consumer).
@Suite("Kafka consumer flow control (real broker)")
struct FlowControlTests {
    @Test("a partition stuck behind one message fills up and is paused alone; the other partition keeps flowing; nothing is lost")
    func stuckPartition() async throws {
        let topic = try await KafkaTestKit.topic("stuck", partitions: 2)
        // Capacity 40: one partition is paused alone at 20 waiting, all together at 40.
        let consumer = try KafkaConsumer(
            configuration: try KafkaTestKit.configuration(), groupID: KafkaTestKit.group("stuck"), topics: [topic], bufferCapacity: 40,
            logger: KafkaTestKit.logger
        )
        try await Poll.until("partitions assigned") { consumer.assignedPartitions.count == 2 }
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let gate = StuckGate()
        let handled = NIOLockedValueBox<[Int32: [String]]>([:])
        let processing = Task {
            await consumer.process { message in
                if message.valueText == "stuck" { await gate.wait() }
                handled.withLockedValue { $0[message.partition, default: []].append(message.valueText ?? "") }
            }
        }

        // Partition 0: a message its handler cannot get past, and 200 behind it — many more than
        // the consumer's whole capacity — fetched while the handler is stuck.
        _ = try await producer.send([ProducerRecord(topic: topic, value: "stuck".bytes, partition: 0)]
            + (0..<200).map { ProducerRecord(topic: topic, value: "behind-\($0)".bytes, partition: 0) })
        try await Poll.until("the handler is stuck") { gate.isWaiting }
        // Partition 1's messages are produced only now, after partition 0 filled up.
        _ = try await producer.send((0..<20).map { ProducerRecord(topic: topic, value: "flowing-\($0)".bytes, partition: 1) })
        try await Poll.until("partition 1 flows while partition 0 is stuck", deadline: .seconds(60)) {
            handled.withLockedValue { $0[1]?.count ?? 0 } == 20
        }
        #expect(handled.withLockedValue { $0[0] } == nil, "nothing of partition 0 passed the stuck message")

        gate.open()
        try await Poll.until("partition 0 drains once unstuck", deadline: .seconds(60)) {
            handled.withLockedValue { $0[0]?.count ?? 0 } == 201
        }
        let first = handled.withLockedValue { $0 }
        #expect(first[0] == ["stuck"] + (0..<200).map { "behind-\($0)" }, "in order, once each")
        #expect(first[1] == (0..<20).map { "flowing-\($0)" })
        await producer.close()
        await consumer.close()
        await processing.value
    }
}

/// Holds a handler until opened.
private final class StuckGate: Sendable {
    private let state = NIOLockedValueBox<(waiting: Bool, open: Bool, continuation: CheckedContinuation<Void, Never>?)>((false, false, nil))

    var isWaiting: Bool { state.withLockedValue { $0.waiting } }

    func wait() async {
        await withCheckedContinuation { continuation in
            let proceed = state.withLockedValue { state -> Bool in
                if state.open { return true }
                state.waiting = true
                state.continuation = continuation
                return false
            }
            if proceed { continuation.resume() }
        }
    }

    func open() {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Void, Never>? in
            state.open = true
            defer { state.continuation = nil }
            return state.continuation
        }
        waiter?.resume()
    }
}
