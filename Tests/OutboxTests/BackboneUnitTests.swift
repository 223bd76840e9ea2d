import Contracts
import Foundation
import Kafka
@testable import Outbox
import ServiceKit
import Testing

/// Pure logic of the backbone: backoff, dead-letter headers, header storage. No I/O.
@Suite("Backbone logic")
struct BackboneUnitTests {
    @Test("the inbox remembers longer than the outbox may re-send: INBOX_RETENTION_HOURS above OUTBOX_RETENTION_HOURS, else startup stops naming it")
    func retentions() throws {
        func read(_ environment: [String: String]) throws(ConfigurationError) -> OutboxRelaySettings {
            try OutboxRelaySettings.read(from: Settings(arguments: ["svc"], environment: environment))
        }
        #expect(try read([:]).retention == .seconds(24 * 3_600))
        #expect(try read([:]).inboxRetention == .seconds(168 * 3_600))
        #expect(try read(["OUTBOX_RETENTION_HOURS": "400"]).inboxRetention == .seconds(401 * 3_600), "unset, it follows a long outbox retention")
        #expect(try read(["INBOX_RETENTION_HOURS": "48"]).inboxRetention == .seconds(48 * 3_600))
        #expect(try read(["OUTBOX_RETENTION_HOURS": "8760", "INBOX_RETENTION_HOURS": "8761"]).inboxRetention == .seconds(8_761 * 3_600))
        #expect(try read(["OUTBOX_RETENTION_HOURS": "8760"]).inboxRetention == .seconds(8_761 * 3_600))
        for (outbox, inbox) in [("24", "24"), ("24", "12"), ("100", "90"), ("24", "9000"), ("24", "two days"), ("8760", "8760"), ("24", "8762")] {
            #expect(throws: ConfigurationError.self, "outbox \(outbox) h, inbox \(inbox) h") {
                try read(["OUTBOX_RETENTION_HOURS": outbox, "INBOX_RETENTION_HOURS": inbox])
            }
        }
        do {
            _ = try read(["INBOX_RETENTION_HOURS": "24"])
            Issue.record("an inbox retention equal to the outbox's was accepted")
        } catch {
            #expect(error.message.contains("INBOX_RETENTION_HOURS") && error.message.contains("above OUTBOX_RETENTION_HOURS"), "\(error.message)")
        }
    }

    @Test("backoff doubles from the initial delay and stops at the cap")
    func backoff() {
        let policy = RetryPolicy(initial: .milliseconds(100), maximum: .seconds(1))
        #expect((1...6).map { policy.delay(afterFailures: $0) } == [
            .milliseconds(100), .milliseconds(200), .milliseconds(400), .milliseconds(800), .seconds(1), .seconds(1),
        ])
        #expect(policy.delay(afterFailures: 10_000) == .seconds(1))
    }

    @Test("a dead letter keeps the original message and says who failed, why and where it came from")
    func deadLetterRoundTrip() throws {
        let original = KafkaMessage(
            topicPartition: TopicPartition(topic: "orderflow.users.events", partition: 4), offset: 17,
            key: Array("key".utf8), value: Array("{}".utf8),
            headers: [KafkaHeader(key: "ce_type", text: "x"), KafkaHeader(key: "dlq_reason", text: "stale")], timestampMs: nil
        )
        let failedAt = Date(timeIntervalSince1970: 1_790_000_000)
        let record = DeadLetter.record(for: original, consumer: "payments", reason: "unknown ce_type x", at: failedAt)
        #expect(record.topic == "orderflow.payments.dlq")
        #expect(record.key == original.key && record.value == original.value)
        let stored = KafkaMessage(topicPartition: TopicPartition(topic: record.topic, partition: 0), offset: 3,
                                  key: record.key, value: record.value, headers: record.headers, timestampMs: nil)
        let letter = try #require(DeadLetter(stored))
        #expect(letter.consumer == "payments")
        #expect(letter.reason == "unknown ce_type x")
        #expect(letter.original == original.topicPartition)
        #expect(letter.originalOffset == 17)
        #expect(letter.failedAt == failedAt)
        let replay = letter.replayRecord
        #expect(replay.topic == "orderflow.users.events")
        #expect(replay.headers == [KafkaHeader(key: "ce_type", text: "x")], "replay drops every dlq_ header, old ones included")
    }

    @Test("a message without dead-letter headers is not a dead letter")
    func notADeadLetter() {
        let message = KafkaMessage(topicPartition: TopicPartition(topic: "t", partition: 0), offset: 0, key: nil, value: nil,
                                   headers: [KafkaHeader(key: "dlq_reason", text: "r")], timestampMs: nil)
        #expect(DeadLetter(message) == nil)
    }

    @Test("outbox headers keep their order through storage")
    func headerStorage() throws {
        let headers = [("ce_type", "a"), ("ce_id", "b"), ("traceparent", "00-\"quoted\"-01")].map { CloudEventHeader(name: $0.0, value: $0.1) }
        #expect(try HeaderCoding.decode(HeaderCoding.encode(headers)) == headers)
    }

    @Test("a signalled wake-up is kept until the next wait; an unsignalled wait ends at its limit")
    func wakeSignal() async {
        let signal = WakeSignal()
        signal.signal()
        let clock = ContinuousClock()
        var start = clock.now
        await signal.wait(atMost: .seconds(30))
        #expect(clock.now - start < .seconds(10))
        start = clock.now
        await signal.wait(atMost: .milliseconds(50))
        #expect(clock.now - start >= .milliseconds(50))
    }

    @Test("the outbox refuses what the relay could never publish: oversized messages and illegal topic names")
    func appendValidation() throws {
        func message(topic: String, bytes: Int) -> OutboxMessage {
            OutboxMessage(id: UUID(), topic: topic, key: "k", headers: [], payload: [UInt8](repeating: 1, count: bytes))
        }
        try Outbox.validate(message(topic: "orderflow.users.events", bytes: 1_000))
        #expect(throws: OutboxError.messageTooLarge(bytes: 1_000_002, limit: Outbox.maximumMessageBytes)) {
            try Outbox.validate(message(topic: "t", bytes: 1_000_001))
        }
        #expect(throws: OutboxError.invalidTopic("bad topic")) { try Outbox.validate(message(topic: "bad topic", bytes: 1)) }
        #expect(throws: OutboxError.invalidTopic("")) { try Outbox.validate(message(topic: "", bytes: 1)) }
    }
}
