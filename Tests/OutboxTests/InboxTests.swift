import Contracts
import Foundation
import Kafka
import NIOConcurrencyHelpers
import Outbox
import TestSupport
import Testing

/// The inbox on real Postgres and Tansu: duplicates absorbed, poison dead-lettered, replay.
@Suite("Inbox consumer")
struct InboxTests {
    @Test("the same message delivered three times produces its effect once")
    func duplicates() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("inbox-dup")
            let producer = try KafkaProducer(configuration: try OutboxTestKit.kafka(), logger: OutboxTestKit.logger)
            let twice = try OutboxTestKit.event(note: "repeated")
            let sentinel = try OutboxTestKit.event(note: "sentinel")
            let records = [twice, twice, twice, sentinel].map { OutboxMessage($0, topic: topic).record }
            _ = try await producer.send(records)
            let inbox = try schema.inbox(name: "dup", topic: topic, handlers: OutboxTestKit.effectHandlers(schema: schema.name), producer: producer)
            try await OutboxTestKit.running({ try await inbox.run() }) {
                try await Poll.until("the sentinel was handled") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'sentinel'") == 1
                }
            }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'repeated'") == 1)
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.processed_messages") == 2)
            await producer.close()
        }
    }

    @Test("poison messages go to the DLQ with their reason, the consumer continues, and replay re-delivers after the fix")
    func poisonAndReplay() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("inbox-poison")
            let consumerName = "t" + UUID().uuidString.prefix(8).lowercased()
            let kafka = try OutboxTestKit.kafka()
            try await MessagingTopics(partitions: 1).ensure([Topic.deadLetters(consumer: consumerName).rawValue], kafka: kafka, logger: OutboxTestKit.logger)
            let producer = try KafkaProducer(configuration: kafka, logger: OutboxTestKit.logger)

            func record(_ event: CloudEvent, value: [UInt8]? = nil, dropHeaders: Bool = false) -> ProducerRecord {
                var record = OutboxTestKit.record(event, topic: topic)
                if let value { record.value = value }
                if dropHeaders { record.headers = [] }
                return record
            }
            var unknown = try OutboxTestKit.event(note: "unknown-type")
            unknown.type = "orderflow.users.user_exploded.v1"
            let poison = try OutboxTestKit.event(note: "poison")
            _ = try await producer.send([
                record(try OutboxTestKit.event(note: "garbage"), value: Array("{not json".utf8)),
                record(unknown),
                record(try OutboxTestKit.event(note: "no-envelope"), dropHeaders: true),
                record(poison),
                record(try OutboxTestKit.event(note: "after")),
            ])

            let bugged = NIOLockedValueBox(true)
            let handlers = OutboxTestKit.effectHandlers(schema: schema.name) { message in
                if message.displayName == "poison", bugged.withLockedValue({ $0 }) { throw PermanentFailure("display name rejected by a bug") }
            }
            let inbox = try schema.inbox(name: consumerName, topic: topic, handlers: handlers, producer: producer)
            try await OutboxTestKit.running({ try await inbox.run() }) {
                try await Poll.until("the message after the poison was handled") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'after'") == 1
                }
                let store = DeadLetterStore(kafka: kafka, logger: OutboxTestKit.logger)
                let letters = try await store.list(consumer: consumerName)
                #expect(letters.map(\.originalOffset) == [0, 1, 2, 3])
                #expect(letters.allSatisfy { $0.original.topic == topic && $0.consumer == consumerName })
                let reasons = letters.map(\.reason)
                #expect(reasons.count == 4)
                if reasons.count == 4 {
                    #expect(reasons[0].hasPrefix("undecodable orderflow.users.user_registered.v1 payload"))
                    #expect(reasons[1] == "unknown ce_type orderflow.users.user_exploded.v1")
                    #expect(reasons[2].hasPrefix("invalid CloudEvents envelope"))
                    #expect(reasons[3] == "display name rejected by a bug")
                }
                #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'poison'") == 0)

                bugged.withLockedValue { $0 = false }
                let replayed = try await store.replay(letters.filter { $0.originalOffset == 3 })
                #expect(replayed.map(\.topic) == [topic])
                try await Poll.until("the replayed message was handled") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'poison'") == 1
                }
                #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE message_id = '\(poison.id.uuidString.lowercased())'") == 1)
            }
            await producer.close()
        }
    }

    @Test("a transient failure pauses only its partition and is retried until it succeeds")
    func transientRetry() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("inbox-retry", partitions: 2)
            let producer = try KafkaProducer(configuration: try OutboxTestKit.kafka(), logger: OutboxTestKit.logger)
            let flaky = try OutboxTestKit.event(note: "flaky")
            let others = try (0..<20).map { try OutboxTestKit.event(note: "other-\($0)") }
            // "flaky" goes to partition 0; the others to partition 1.
            _ = try await producer.send(OutboxTestKit.record(flaky, topic: topic, key: "a", partition: 0))
            let failuresLeft = NIOLockedValueBox(Int.max)
            let handlers = OutboxTestKit.effectHandlers(schema: schema.name) { message in
                guard message.displayName == "flaky" else { return }
                let fail = failuresLeft.withLockedValue { left -> Bool in
                    guard left > 0 else { return false }
                    left -= 1
                    return true
                }
                if fail { throw TransientTestError() }
            }
            let inbox = try schema.inbox(name: "retry", topic: topic, handlers: handlers, producer: producer)
            try await OutboxTestKit.running({ try await inbox.run() }) {
                // While "flaky" keeps failing, partition 1 keeps flowing.
                _ = try await producer.send(others.map { OutboxTestKit.record($0, topic: topic, key: "b", partition: 1) })
                try await Poll.until("the other partition's messages were handled") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note LIKE 'other-%'") == 20
                }
                #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'flaky'") == 0)
                failuresLeft.withLockedValue { $0 = 2 }
                try await Poll.until("the flaky message succeeded after retries") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'flaky'") == 1
                }
            }
            #expect(failuresLeft.withLockedValue { $0 } == 0)
            await producer.close()
        }
    }
}

extension InboxTests {
    @Test("a handler that swallows a failed statement does not commit a rolled-back effect: the message is retried")
    func swallowedStatementFailure() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("inbox-aborted")
            let producer = try KafkaProducer(configuration: try OutboxTestKit.kafka(), logger: OutboxTestKit.logger)
            let event = try OutboxTestKit.event(note: "careless")
            _ = try await producer.send(OutboxTestKit.record(event, topic: topic))
            let careless = NIOLockedValueBox(true)
            var handlers = MessageHandlers()
            handlers.on(UserRegistered.self) { message, context in
                try await context.connection.query(
                    "INSERT INTO \(unescaped: schema.name).effects (message_id, note) VALUES (\(context.event.id), \(message.displayName))",
                    logger: context.logger
                )
                let firstAttempt = careless.withLockedValue { value -> Bool in
                    defer { value = false }
                    return value
                }
                if firstAttempt {
                    // A failing statement whose error the handler ignores: the transaction is now aborted.
                    _ = try? await context.connection.query("SELECT 1 / 0", logger: context.logger)
                }
            }
            let inbox = try schema.inbox(name: "aborted", topic: topic, handlers: handlers, producer: producer)
            try await OutboxTestKit.running({ try await inbox.run() }) {
                try await Poll.until("the retried message's effect was committed") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.effects") == 1
                }
            }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.processed_messages") == 1)
            await producer.close()
        }
    }
}

struct TransientTestError: Error {}
