import Kafka
import TestSupport
import Testing

/// Producer, consumer and admin against the real broker.
@Suite("Kafka producer, consumer and admin (real broker)")
struct ProducerConsumerTests {
    @Test("a message round-trips with key, value and headers")
    func roundTrip() async throws {
        let topic = try await KafkaTestKit.topic("roundtrip", partitions: 3)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let headers = [
            KafkaHeader(key: "ce_type", text: "orderflow.test.v1"),
            KafkaHeader(key: "binary", value: [0, 1, 2, 255]),
            KafkaHeader(key: "empty", value: nil),
        ]
        let report = try await producer.send(ProducerRecord(topic: topic, key: "order-1".bytes, value: #"{"a":1}"#.bytes, headers: headers))
        #expect(report.topic == topic)
        #expect(report.offset >= 0)
        await producer.close()

        let consumer = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: KafkaTestKit.group("rt"), topics: [topic], logger: KafkaTestKit.logger)
        let received = try await KafkaTestKit.collect(consumer, count: 1)
        await consumer.close()
        let message = try #require(received.first)
        #expect(message.keyText == "order-1")
        #expect(message.valueText == #"{"a":1}"#)
        #expect(message.headers == headers)
        #expect(message.partition == report.partition)
        #expect(message.offset == report.offset)
        #expect(message.timestampMs != nil)
    }

    @Test("1,000 messages over 10 keys arrive in per-key order")
    func perKeyOrder() async throws {
        let topic = try await KafkaTestKit.topic("order", partitions: 6)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let records = (0..<1_000).map { index in
            ProducerRecord(topic: topic, key: "key-\(index % 10)".bytes, value: "\(index / 10)".bytes)
        }
        let reports = try await producer.send(records)
        #expect(reports.count == 1_000)
        await producer.close()

        let received = try await KafkaTestKit.consume(topic, count: 1_000, groupPrefix: "order")
        var sequences: [String: [Int]] = [:]
        for message in received {
            sequences[message.keyText ?? "", default: []].append(Int(message.valueText ?? "") ?? -1)
        }
        #expect(sequences.count == 10)
        for (key, values) in sequences {
            #expect(values == Array(0..<100), "key \(key) arrived out of order or incomplete")
        }
    }

    @Test("a restarted consumer resumes right after the last message marked done")
    func resumesAtCommittedOffset() async throws {
        let topic = try await KafkaTestKit.topic("resume", partitions: 1)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        _ = try await producer.send((0..<100).map { ProducerRecord(topic: topic, key: "k".bytes, value: "\($0)".bytes) })
        await producer.close()

        let group = KafkaTestKit.group("resume")
        let first = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: group, topics: [topic], logger: KafkaTestKit.logger)
        let processed = try await KafkaTestKit.collect(first, count: 40)
        #expect(processed.map(\.valueText) == (0..<40).map { "\($0)" })
        await first.close()

        let second = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: group, topics: [topic], logger: KafkaTestKit.logger)
        let rest = try await KafkaTestKit.collect(second, count: 60)
        await second.close()
        #expect(rest.map(\.valueText) == (40..<100).map { "\($0)" })
    }

    @Test("creating topics is idempotent and listing shows them with their partitions")
    func admin() async throws {
        let admin = try KafkaAdmin(configuration: try KafkaTestKit.configuration(), logger: KafkaTestKit.logger)
        let name = "test.admin.\(UInt32.random(in: 0...UInt32.max))"
        #expect(try await admin.createTopics([name], partitions: 4) == [name])
        #expect(try await admin.createTopics([name], partitions: 4) == [])
        let described = try await admin.describeTopics()
        #expect(described.contains(TopicDescription(name: name, partitions: 4)))
    }
}

extension ProducerConsumerTests {
    @Test("an empty batch completes at once with no reports")
    func emptyBatch() async throws {
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        #expect(try await producer.send([]).isEmpty)
        await producer.close()
    }
}
