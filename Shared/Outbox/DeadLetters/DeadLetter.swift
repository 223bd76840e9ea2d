import Contracts
public import Foundation
public import Kafka

/// A message a consumer gave up on, as stored in `orderflow.<consumer>.dlq`: the original key,
/// value and headers, plus `dlq_*` headers saying who failed, why, and where it came from.
public struct DeadLetter: Sendable, Equatable {
    /// `dlq_reason`.
    public static let reasonHeader = "dlq_reason"
    /// `dlq_consumer`.
    public static let consumerHeader = "dlq_consumer"
    /// `dlq_original_topic`.
    public static let topicHeader = "dlq_original_topic"
    /// `dlq_original_partition`.
    public static let partitionHeader = "dlq_original_partition"
    /// `dlq_original_offset`.
    public static let offsetHeader = "dlq_original_offset"
    /// `dlq_failed_at` (RFC 3339).
    public static let failedAtHeader = "dlq_failed_at"

    /// The consumer that gave up.
    public var consumer: String
    /// Why.
    public var reason: String
    /// Where the message was first consumed from.
    public var original: TopicPartition
    /// Its offset there.
    public var originalOffset: Int64
    /// When the consumer gave up.
    public var failedAt: Date
    /// The dead-letter message itself (its DLQ topic, partition and offset; original payload).
    public var message: KafkaMessage

    /// The record that dead-letters `message` for `consumer`.
    public static func record(for message: KafkaMessage, consumer: String, reason: String, at date: Date) -> ProducerRecord {
        var headers = message.headers.filter { !$0.key.hasPrefix("dlq_") }
        headers.append(KafkaHeader(key: reasonHeader, text: reason))
        headers.append(KafkaHeader(key: consumerHeader, text: consumer))
        headers.append(KafkaHeader(key: topicHeader, text: message.topic))
        headers.append(KafkaHeader(key: partitionHeader, text: String(message.partition)))
        headers.append(KafkaHeader(key: offsetHeader, text: String(message.offset)))
        headers.append(KafkaHeader(key: failedAtHeader, text: date.formatted(.iso8601)))
        return ProducerRecord(topic: Topic.deadLetters(consumer: consumer).rawValue, key: message.key, value: message.value, headers: headers)
    }

    /// Reads a message from a dead-letter topic; nil when its `dlq_*` headers are missing.
    public init?(_ message: KafkaMessage) {
        guard let consumer = message.headers.text(for: Self.consumerHeader),
              let reason = message.headers.text(for: Self.reasonHeader),
              let topic = message.headers.text(for: Self.topicHeader),
              let partition = message.headers.text(for: Self.partitionHeader).flatMap({ Int32($0) }),
              let offset = message.headers.text(for: Self.offsetHeader).flatMap({ Int64($0) })
        else { return nil }
        self.consumer = consumer
        self.reason = reason
        self.original = TopicPartition(topic: topic, partition: partition)
        self.originalOffset = offset
        self.failedAt = message.headers.text(for: Self.failedAtHeader).flatMap { try? Date($0, strategy: .iso8601) } ?? .distantPast
        self.message = message
    }

    /// The record that replays the message to its original topic, exactly as first sent (same
    /// key, value and headers, so every other consumer's inbox recognises it as a duplicate).
    public var replayRecord: ProducerRecord {
        ProducerRecord(
            topic: original.topic, key: message.key, value: message.value,
            headers: message.headers.filter { !$0.key.hasPrefix("dlq_") }
        )
    }
}
