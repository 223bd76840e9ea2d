import Foundation
import Kafka
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// A broker that stops answering: `send` fails with a typed timeout, then works again without
/// restarting the process once the broker is back. Uses a Tansu of its own (started by the
/// project's stack script) so that freezing it does not disturb other tests.
@Suite("Kafka producer across a broker outage")
struct BrokerOutageTests {
    @Test("send fails with _MSG_TIMED_OUT while the broker is frozen and succeeds after it resumes")
    func frozenBroker() async throws {
        let root = try StackEnvironment.value("ORDERFLOW_ROOT")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("of-kafka-outage-\(UUID().uuidString.prefix(8))").path
        try await Script.run(["bash", "\(root)/deploy/local/stack.sh", "start", directory, "kafka"])
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let pidText = try String(contentsOfFile: "\(directory)/pids/tansu.pid", encoding: .utf8)
        let pid = try #require(pid_t(pidText.trimmingCharacters(in: .whitespacesAndNewlines)))
        let env = try String(contentsOfFile: "\(directory)/stack.env", encoding: .utf8)
        let brokers = try #require(env.split(separator: "\n").first { $0.hasPrefix("ORDERFLOW_KAFKA_BROKERS=") }?.split(separator: "=").last.map(String.init))

        do {
            let producer = try KafkaProducer(
                configuration: try KafkaTestKit.producerConfiguration(brokers: [brokers], ["message.timeout.ms": "3000"]),
                logger: KafkaTestKit.logger
            )
            let admin = try KafkaAdmin(configuration: try KafkaTestKit.configuration(brokers: [brokers]), logger: KafkaTestKit.logger)
            try await admin.createTopics(["outage"], partitions: 1)
            _ = try await producer.send(ProducerRecord(topic: "outage", value: "before".bytes))

            kill(pid, SIGSTOP)
            do {
                _ = try await producer.send(ProducerRecord(topic: "outage", value: "during".bytes))
                Issue.record("send to a frozen broker should fail")
            } catch {
                #expect(error.code == KafkaError.messageTimedOutCode)
            }
            kill(pid, SIGCONT)

            try await Poll.until("sending works again") {
                (try? await producer.send(ProducerRecord(topic: "outage", value: "after".bytes))) != nil
            }
            await producer.close()
        } catch {
            kill(pid, SIGCONT)
            try? await Script.run(["bash", "\(root)/deploy/local/stack.sh", "stop", directory])
            throw error
        }
        try await Script.run(["bash", "\(root)/deploy/local/stack.sh", "stop", directory])
    }
}
