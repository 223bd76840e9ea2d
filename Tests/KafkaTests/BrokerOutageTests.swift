import Foundation
import Kafka
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A broker that stops answering: `send` fails with a typed timeout, then works again without
/// restarting the process once the broker is back. Uses a Tansu of its own so that freezing it
/// does not disturb other tests.
@Suite("Kafka producer across a broker outage")
struct BrokerOutageTests {
    @Test("send fails with _MSG_TIMED_OUT while the broker is frozen and succeeds after it resumes")
    func frozenBroker() async throws {
        try await PrivateStack.start("kafka").use { stack in
            let pid = try stack.pid("tansu")
            let brokers = try stack.value("ORDERFLOW_KAFKA_BROKERS")
            defer { kill(pid, SIGCONT) }
            let producer = try KafkaProducer(
                configuration: try KafkaTestKit.producerConfiguration(brokers: [brokers], ["message.timeout.ms": "3000"]),
                logger: KafkaTestKit.logger
            )
            let admin = try KafkaAdmin(configuration: try KafkaTestKit.configuration(brokers: [brokers]), logger: KafkaTestKit.logger)
            try await admin.createTopics(["outage"], partitions: 1)
            _ = try await producer.send(ProducerRecord(topic: "outage", value: "before".bytes))

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
}
