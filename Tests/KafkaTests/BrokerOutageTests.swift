import Foundation
@testable import Kafka
import NIOConcurrencyHelpers
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A broker that stops answering: `send` fails with a typed timeout, then works again without
/// restarting the process once the broker is back. Uses a Tansu of its own so that freezing it
/// does not disturb other tests. The tests run one after the other: two private brokers starting
/// at once on a busy machine slowed a first delivery past a 3 s delivery timeout.
@Suite("Kafka producer across a broker outage", .serialized)
struct BrokerOutageTests {
    @Test("send fails with _MSG_TIMED_OUT while the broker is frozen and succeeds after it resumes")
    func frozenBroker() async throws {
        try await Self.withPrivateBroker { stack, pid, brokers in
            let producer = try await Self.producer(brokers, topic: "outage", ["message.timeout.ms": "3000"])
            try await stack.freeze("tansu")
            do {
                let report = try await producer.send(ProducerRecord(topic: "outage", value: "during".bytes))
                Issue.record("""
                    send to a frozen broker should fail, but was acknowledged (\(report)); the broker \
                    (pid \(pid), \(brokers)) is in state \(PrivateStack.state(of: pid) ?? "?")
                    """)
            } catch let error as KafkaError {
                #expect(error.code == KafkaError.messageTimedOutCode)
            }
            kill(pid, SIGCONT)

            try await Poll.until("sending works again") {
                (try? await producer.send(ProducerRecord(topic: "outage", value: "after".bytes))) != nil
            }
            await producer.close()
        }
    }

    @Test("a batch waiting for room in a full queue the frozen broker never drains stops waiting when its task is cancelled, and when the producer closes")
    func closeWithFullQueue() async throws {
        try await Self.withPrivateBroker { stack, _, brokers in
            // As the relay runs it: no delivery timeout, so nothing ever frees room on its own.
            let producer = try await Self.producer(brokers, topic: "full", ["message.timeout.ms": "0", "queue.buffering.max.messages": "5"])
            try await stack.freeze("tansu")
            let filling = try await producer.enqueue((0..<5).map { ProducerRecord(topic: "full", value: "fill-\($0)".bytes) })
            let waiting = Task { try await producer.enqueue((0..<10).map { ProducerRecord(topic: "full", value: "wait-\($0)".bytes) }) }
            try await Poll.until("the second batch waits for room") { producer.enqueuersWaitingForRoom == 1 }

            // A waiting enqueuer whose task is cancelled stops waiting (a relay's campaign is
            // cancelled at the end of its term and must end): its records fail unqueued.
            let cutShort = NIOLockedValueBox(false)
            let cancelled = Task {
                defer { cutShort.withLockedValue { $0 = true } }
                return try await producer.enqueue([ProducerRecord(topic: "full", value: "cancelled".bytes)], ordering: .gapless(replacingFailedClient: false))
            }
            try await Poll.until("the third batch waits for room too") { producer.enqueuersWaitingForRoom == 2 }
            cancelled.cancel()
            try await Poll.until("the cancelled batch stops waiting", deadline: .seconds(60)) { cutShort.withLockedValue { $0 } }
            let cut = try await cancelled.value
            #expect(cut.firstRefused == 0)
            let cutCodes = await cut.outcomes().map { result -> String in
                if case .failure(let error) = result { return error.code } else { return "delivered" }
            }
            #expect(cutCodes == ["_PURGE_QUEUE"])
            try await Poll.until("the second batch waits again") { producer.enqueuersWaitingForRoom == 1 }

            let closed = NIOLockedValueBox(false)
            let closing = Task {
                await producer.close(flushTimeout: .milliseconds(200))
                closed.withLockedValue { $0 = true }
            }
            // Before, the handle's shutdown waited for the waiting enqueuer, which waited for room
            // only the frozen broker could free: close never returned.
            try await Poll.until("close returns with the broker still frozen", deadline: .seconds(60)) { closed.withLockedValue { $0 } }
            await closing.value
            let waited = await (try waiting.value).outcomes()
            #expect(waited.count == 10)
            #expect(waited.allSatisfy { (try? $0.get()) == nil }, "a record of the waiting batch was reported delivered")
            let purged = waited.compactMap { result -> String? in
                guard case .failure(let error) = result else { return nil }
                return error.code
            }
            #expect(purged.allSatisfy { $0.hasPrefix("_PURGE") }, "\(purged)")
            let filled = await filling.outcomes()
            #expect(filled.allSatisfy { (try? $0.get()) == nil }, "a record queued while the broker was frozen was reported delivered")
        }
    }

    /// Runs `body` with a private Tansu (its stack, pid and address), resumed afterwards if the
    /// body left it frozen.
    private static func withPrivateBroker(_ body: (PrivateStack, pid_t, String) async throws -> Void) async throws {
        try await PrivateStack.start("kafka").use { stack in
            let pid = try stack.pid("tansu")
            defer { kill(pid, SIGCONT) }
            try await body(stack, pid, try stack.value("ORDERFLOW_KAFKA_BROKERS"))
        }
    }

    /// A producer for the private broker at `brokers` (with `extra` settings) that has already
    /// delivered one record to the fresh one-partition `topic`, so the topic's metadata is known.
    /// That first delivery is tried again while it fails: with a short `message.timeout.ms`, a
    /// fresh broker on a busy machine may take longer than that to answer it.
    private static func producer(_ brokers: String, topic: String, _ extra: [String: String]) async throws -> KafkaProducer {
        let producer = try KafkaProducer(
            configuration: try KafkaTestKit.producerConfiguration(brokers: [brokers], extra), logger: KafkaTestKit.logger
        )
        let admin = try KafkaAdmin(configuration: try KafkaTestKit.configuration(brokers: [brokers]), logger: KafkaTestKit.logger)
        try await admin.createTopics([topic], partitions: 1)
        try await Poll.until("the fresh broker acknowledges a first record", deadline: .seconds(90)) {
            (try? await producer.send(ProducerRecord(topic: topic, value: "before".bytes))) != nil
        }
        return producer
    }
}
