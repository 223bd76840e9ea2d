import Kafka
import TestSupport
import Testing

/// Batches larger than librdkafka's local queue: the producer waits for delivery reports to free
/// room (``KafkaProducer/enqueue(_:ordering:)``) instead of failing or reordering.
@Suite("Kafka producer with a full local queue (real broker)")
struct QueueFullTests {
    @Test("two concurrent batches, each 25× the queue limit, are delivered whole, in per-key order, headers intact", .timeLimit(.minutes(2)))
    func batchLargerThanQueue() async throws {
        let topic = try await KafkaTestKit.topic("queuefull", partitions: 3)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(["queue.buffering.max.messages": "100"]), logger: KafkaTestKit.logger)
        // Every third record carries a header, so both enqueue paths (with and without headers)
        // interleave within one key. Two batches over disjoint keys are enqueued concurrently, so
        // two enqueuers wait for room at once.
        func records(keys: Range<Int>) -> [ProducerRecord] {
            (0..<2_500).map { position in
                let key = keys.lowerBound + position % keys.count
                let sequence = position / keys.count
                let index = sequence * 10 + key
                return ProducerRecord(
                    topic: topic, key: "key-\(key)".bytes, value: "\(sequence)".bytes,
                    headers: index % 3 == 0 ? [KafkaHeader(key: "n", text: "\(index)")] : []
                )
            }
        }
        async let first = producer.enqueue(records(keys: 0..<5))
        async let second = producer.enqueue(records(keys: 5..<10))
        let (firstPending, secondPending) = try await (first, second)
        try await firstPending.confirm()
        let reports = await secondPending.outcomes()
        #expect(reports.count == 2_500)
        #expect(reports.allSatisfy { (try? $0.get()) != nil })
        await producer.close()

        let received = try await KafkaTestKit.consume(topic, count: 5_000, groupPrefix: "queuefull")
        var sequences: [String: [Int]] = [:]
        for message in received {
            let sequence = Int(message.valueText ?? "") ?? -1
            sequences[message.keyText ?? "", default: []].append(sequence)
            let index = sequence * 10 + (Int(message.keyText?.dropFirst(4) ?? "") ?? 0)
            let expected = index % 3 == 0 ? [KafkaHeader(key: "n", text: "\(index)")] : []
            #expect(message.headers == expected, "record \(index) has the wrong headers")
        }
        #expect(sequences.count == 10)
        for (key, values) in sequences {
            #expect(values == Array(0..<500), "key \(key) arrived out of order or incomplete")
        }
    }

    @Test("confirm() throws the error of a record librdkafka refuses", .timeLimit(.minutes(1)))
    func confirmThrows() async throws {
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let topic = try await KafkaTestKit.topic("confirm", partitions: 1)
        // A first delivery makes the topic's metadata known, so partition 7 of this one-partition
        // topic is refused when it is enqueued (rd_kafka_produce's synchronous error path).
        try await producer.enqueue([ProducerRecord(topic: topic, value: "ok".bytes, partition: 0)]).confirm()
        let pending = try await producer.enqueue([ProducerRecord(topic: topic, value: "x".bytes, partition: 7)])
        let error = await #expect(throws: KafkaError.self) { try await pending.confirm() }
        #expect(error?.code == "_UNKNOWN_PARTITION")
        await producer.close()
    }
}
