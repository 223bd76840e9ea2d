import Kafka
import NIOConcurrencyHelpers
import TestSupport
import Testing

/// Closing clients while work is in flight: nothing hangs, nothing crashes, and what was marked
/// done before a rebalance is not processed again (auto-commit off, so only the commit on revoke
/// and on close can save the offsets).
@Suite("Kafka clients under load: close and rebalance mid-processing")
struct ShutdownUnderLoadTests {
    @Test("producer close while sends are in flight: every send returns")
    func producerCloseUnderLoad() async throws {
        let topic = try await KafkaTestKit.topic("close-producer", partitions: 3)
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        let settled = NIOLockedValueBox(0)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for sender in 0..<4 {
                group.addTask {
                    for round in 0..<20 {
                        let records = (0..<500).map { ProducerRecord(topic: topic, key: "s\(sender)".bytes, value: "\(round)-\($0)".bytes) }
                        _ = try? await producer.sendAll(records)
                        settled.withLockedValue { $0 += 1 }
                    }
                }
            }
            try await Poll.until("some sends went through") { settled.withLockedValue { $0 } >= 4 }
            await producer.close()
            try await group.waitForAll()
        }
        #expect(settled.withLockedValue { $0 } == 80)
    }

    @Test("consumer close while handlers run, and a join mid-processing with auto-commit off")
    func rebalanceAndCloseMidProcessing() async throws {
        let topic = try await KafkaTestKit.topic("midflight", partitions: 4)
        let group = KafkaTestKit.group("midflight")
        let producer = try KafkaProducer(configuration: try KafkaTestKit.producerConfiguration(), logger: KafkaTestKit.logger)
        _ = try await producer.send((0..<400).map { ProducerRecord(topic: topic, key: "k\($0 % 16)".bytes, value: "\($0)".bytes) })
        await producer.close()

        let seen = NIOLockedValueBox<[String]>([])
        func member() throws -> (KafkaConsumer, Task<Void, Never>) {
            let consumer = try KafkaConsumer(
                configuration: try KafkaTestKit.configuration(["enable.auto.commit": "false"]),
                groupID: group, topics: [topic], bufferCapacity: 50, logger: KafkaTestKit.logger
            )
            let task = Task {
                await consumer.process { message in
                    try? await Task.sleep(for: .milliseconds(5))
                    seen.withLockedValue { $0.append(message.valueText ?? "") }
                    try? consumer.markDone(message)
                }
            }
            return (consumer, task)
        }

        let (a, aTask) = try member()
        try await Poll.until("a is processing") { seen.withLockedValue { $0.count } >= 40 }
        let (b, bTask) = try member()
        try await Poll.until("b took partitions over", deadline: .seconds(90)) { !b.assignedPartitions.isEmpty }
        // Close a while its handlers are still busy; b inherits the rest.
        await a.close()
        await aTask.value
        try await Poll.until("everything processed", deadline: .seconds(120)) { Set(seen.withLockedValue { $0 }).count == 400 }
        await b.close()
        await bTask.value

        let values = seen.withLockedValue { $0 }
        #expect(Set(values) == Set((0..<400).map(String.init)), "a message was lost")
        #expect(values.count == 400, "\(values.count - 400) message(s) processed twice")
    }
}
