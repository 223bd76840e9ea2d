public import Contracts
public import Foundation
public import Kafka

/// One message to publish, as the outbox stores it: topic, key, text headers and payload bytes.
public struct OutboxMessage: Sendable, Equatable {
    /// Unique per message (`ce_id` for CloudEvents); the outbox refuses a second row with it.
    public var id: UUID
    /// Destination topic.
    public var topic: String
    /// The Kafka key (the aggregate id): one key's messages stay in order.
    public var key: String?
    /// Headers, in order.
    public var headers: [CloudEventHeader]
    /// The value.
    public var payload: [UInt8]?

    /// Creates a message.
    public init(id: UUID, topic: String, key: String?, headers: [CloudEventHeader], payload: [UInt8]?) {
        self.id = id
        self.topic = topic
        self.key = key
        self.headers = headers
        self.payload = payload
    }

    /// A CloudEvent in Kafka binary mode: `ce_*` headers, the data as the value, keyed by subject.
    public init(_ event: CloudEvent, topic: String) {
        self.init(id: event.id, topic: topic, key: event.subject, headers: event.headers, payload: event.data)
    }
}

extension OutboxMessage {
    /// The record that publishes this message: key as UTF-8, headers as text, payload as the value.
    public var record: ProducerRecord {
        ProducerRecord(
            topic: topic, key: key.map { Array($0.utf8) }, value: payload,
            headers: headers.map { KafkaHeader(key: $0.name, text: $0.value) }
        )
    }
}
