import Contracts
import Foundation
import Kafka

/// An unpublished outbox row, as the relay reads it.
struct OutboxRow: Sendable {
    var id: Int64
    var messageID: UUID
    var topic: String
    var key: String?
    var headers: [CloudEventHeader]
    var payload: [UInt8]?

    /// The record to produce: key, value and headers as stored.
    var record: ProducerRecord {
        ProducerRecord(
            topic: topic,
            key: key.map { Array($0.utf8) },
            value: payload,
            headers: headers.map { KafkaHeader(key: $0.name, text: $0.value) }
        )
    }
}
