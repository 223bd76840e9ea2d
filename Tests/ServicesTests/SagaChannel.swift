import Contracts
import Foundation
import Kafka
import KafkaTestSupport
import Logging
import NIOConcurrencyHelpers
import Outbox
import Testing
import TestSupport

/// Plays the saga orchestrator's part in tests: sends commands as CloudEvents and reads the
/// participants' replies (and dead letters) from Kafka.
final class SagaChannel: Sendable {
    private let producer: KafkaProducer
    private let replies: KafkaConsumer
    private let received = NIOLockedValueBox<[CloudEvent]>([])
    private let reader: Task<Void, Never>
    static let logger = Logger(label: "saga-channel")

    /// Starts reading `topic` (saga replies by default) from the beginning in a fresh group.
    init(reading topic: Topic = .sagaReplies) throws {
        let configuration = try KafkaTesting.configuration()
        producer = try KafkaProducer(configuration: configuration, logger: Self.logger)
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "test-saga-\(UUID().uuidString.prefix(8))", topics: [topic.rawValue], logger: Self.logger
        )
        replies = consumer
        let received = self.received
        reader = Task {
            for await message in consumer.messages {
                try? consumer.markDone(message)
                let headers = message.headers.compactMap { header in header.text.map { CloudEventHeader(name: header.key, value: $0) } }
                if let event = try? CloudEvent(headers: headers, data: message.value) {
                    received.withLockedValue { $0.append(event) }
                }
            }
        }
    }

    /// Reads from another topic (a dead-letter topic, say) instead.
    convenience init(deadLettersOf consumer: String) throws {
        try self.init(reading: Topic.deadLetters(consumer: consumer))
    }

    /// Sends `command` as a new CloudEvent (new `ce_id`) and returns the envelope sent.
    @discardableResult
    func send<M: MessageContract>(_ command: M, correlationID: String? = nil, causationID: String? = nil) async throws -> CloudEvent {
        let event = try CloudEvent(command, source: "orders", correlationID: correlationID ?? UUID().uuidString.lowercased(), causationID: causationID)
        try await resend(event, topic: M.topic)
        return event
    }

    /// Sends `event` again, unchanged (a redelivery).
    func resend(_ event: CloudEvent, topic: Topic) async throws {
        _ = try await producer.send(OutboxMessage(event, topic: topic.rawValue).record)
    }

    /// Sends many prepared envelopes in one batch.
    func sendAll(_ events: [(CloudEvent, Topic)]) async throws {
        _ = try await producer.send(events.map { OutboxMessage($0.0, topic: $0.1.rawValue).record })
    }

    /// Everything read so far.
    var events: [CloudEvent] { received.withLockedValue { $0 } }

    /// The replies caused by the command `id`.
    func replies(causedBy id: UUID) -> [CloudEvent] {
        events.filter { $0.causationID?.lowercased() == id.uuidString.lowercased() }
    }

    /// Waits until `condition` holds for what was read.
    func waitUntil(_ what: String, deadline: Duration = .seconds(90), _ condition: @escaping @Sendable ([CloudEvent]) -> Bool) async throws {
        try await Poll.until(what, deadline: deadline) { condition(self.events) }
    }

    func close() async {
        reader.cancel()
        await replies.close()
        await producer.close()
    }
}
