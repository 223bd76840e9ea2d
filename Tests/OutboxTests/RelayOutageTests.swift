import Contracts
import Foundation
import Kafka
import Outbox
import TestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The broker away for 10 s while the service keeps writing: the backlog grows, then drains,
/// and every row has its effect exactly once. Uses a Tansu of its own (frozen with SIGSTOP).
@Suite("Outbox relay across a broker outage")
struct RelayOutageTests {
    @Test("backlog grows while the broker is frozen for 10 s, then drains; each row's effect happens once")
    func brokerOutage() async throws {
        try await PrivateStack.start("kafka").use { stack in
            let brokers = [try stack.value("ORDERFLOW_KAFKA_BROKERS")]
            let pid = try stack.pid("tansu")
            defer { kill(pid, SIGCONT) }
            try await OutboxTestKit.withSchema { schema in
                let topic = try await OutboxTestKit.topic("relay-outage", partitions: 3, brokers: brokers)
                let kafka = try OutboxTestKit.kafka(brokers: brokers)
                let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: kafka,
                                            settings: OutboxTestKit.relaySettings, logger: OutboxTestKit.logger)
                let producer = try KafkaProducer(configuration: kafka, logger: OutboxTestKit.logger)
                let inbox = try schema.inbox(name: "outage", topic: topic, handlers: OutboxTestKit.effectHandlers(schema: schema.name),
                                             producer: producer, brokers: brokers)
                let keys = (0..<5).map { _ in UUID.v7() }
                let written = try await OutboxTestKit.running({ try await relay.run() }) {
                    var written = 0
                    func write(_ count: Int) async throws {
                        for _ in 0..<count {
                            // Five aggregates; the note carries the aggregate and its sequence number.
                            let key = written % 5
                            let event = try OutboxTestKit.event(note: "k\(key)-\(written / 5)", key: keys[key])
                            try await schema.append([OutboxMessage(event, topic: topic)])
                            written += 1
                        }
                    }
                    try await write(20)
                    try await Poll.until("the first rows were published") {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                    }
                    try await stack.freeze("tansu")
                    let clock = ContinuousClock()
                    let frozenUntil = clock.now + .seconds(10)
                    var maxBacklog = 0
                    while clock.now < frozenUntil {
                        try await write(5)
                        maxBacklog = max(maxBacklog, try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL"))
                        try await Task.sleep(for: .milliseconds(100))
                    }
                    kill(pid, SIGCONT)
                    print("outbox backlog reached \(maxBacklog) rows during the 10 s outage")
                    #expect(maxBacklog >= 100, "the backlog should grow while the broker is away")
                    try await write(20)
                    try await Poll.until("the backlog drained", deadline: .seconds(120)) {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                    }
                    return written
                }
                try await OutboxTestKit.running({ try await inbox.run() }) {
                    try await Poll.until("every row had its effect", deadline: .seconds(120)) {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.effects") >= written
                    }
                }
                #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects") == written)
                #expect(try await schema.count("SELECT count(DISTINCT message_id)::int8 FROM $schema.effects") == written)
                for key in 0..<5 {
                    let sequence = try await schema.notes(like: "k\(key)-%").map { Int($0.split(separator: "-")[1]) ?? -1 }
                    #expect(sequence == Array(0..<sequence.count) && sequence.count >= written / 5,
                            "aggregate \(key) was handled as \(sequence.prefix(20))…")
                }
                await producer.close()
            }
        }
    }
}
