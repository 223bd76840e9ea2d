import Kafka
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// Two members of one group share partitions; across a join and a leave nothing is lost, and
/// nothing marked done before the revoke is delivered again.
@Suite("Kafka consumer group rebalances (real broker)")
struct RebalanceTests {
    /// Records what each member processed.
    final class Ledger: Sendable {
        let seen = NIOLockedValueBox<[String: [String]]>([:])

        func record(_ member: String, _ value: String) {
            seen.withLockedValue { $0[member, default: []].append(value) }
        }

        var all: [String] { seen.withLockedValue { $0.values.flatMap { $0 } } }
        func count(_ member: String) -> Int { seen.withLockedValue { $0[member]?.count ?? 0 } }
    }

    private func member(_ name: String, group: String, topic: String, ledger: Ledger) throws -> (KafkaConsumer, Task<Void, Never>) {
        let consumer = try KafkaConsumer(configuration: try KafkaTestKit.configuration(), groupID: group, topics: [topic], logger: KafkaTestKit.logger)
        let task = Task {
            await consumer.process { message in
                ledger.record(name, message.valueText ?? "")
                try? consumer.markDone(message)
            }
        }
        return (consumer, task)
    }

    @Test("a join splits partitions, a leave hands them back; no loss, no duplicates")
    func joinAndLeave() async throws {
        let topic = try await KafkaTestKit.topic("rebalance", partitions: 6)
        let group = KafkaTestKit.group("rebalance")
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let ledger = Ledger()
        var sent = 0
        func produce(_ count: Int) async throws {
            let records = (sent..<sent + count).map { ProducerRecord(topic: topic, key: "k\($0 % 12)".bytes, value: "\($0)".bytes) }
            _ = try await producer.send(records)
            sent += count
        }

        let (a, aTask) = try member("a", group: group, topic: topic, ledger: ledger)
        try await produce(200)
        try await Poll.until("a processed the first batch") { ledger.all.count == 200 }
        #expect(a.assignedPartitions.count == 6)

        let (b, bTask) = try member("b", group: group, topic: topic, ledger: ledger)
        try await Poll.until("b was given partitions", deadline: .seconds(90)) { !b.assignedPartitions.isEmpty && a.assignedPartitions.count < 6 }
        #expect(a.assignedPartitions.isDisjoint(with: b.assignedPartitions))
        try await produce(200)
        try await Poll.until("both processed the second batch") { ledger.all.count == 400 }
        #expect(ledger.count("b") > 0)

        await a.close()
        await aTask.value
        try await Poll.until("b owns every partition", deadline: .seconds(90)) { b.assignedPartitions.count == 6 }
        try await produce(200)
        try await Poll.until("b processed the third batch") { ledger.all.count >= 600 }

        await b.close()
        await bTask.value
        await producer.close()
        let values = ledger.all
        #expect(Set(values) == Set((0..<600).map(String.init)), "a message was lost")
        #expect(values.count == 600, "a message was processed twice")
    }
}
