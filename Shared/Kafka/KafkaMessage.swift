/// A topic and partition.
public struct TopicPartition: Sendable, Hashable, CustomStringConvertible {
    /// The topic.
    public var topic: String
    /// The partition.
    public var partition: Int32

    /// Creates a topic-partition.
    public init(topic: String, partition: Int32) {
        self.topic = topic
        self.partition = partition
    }

    public var description: String { "\(topic)[\(partition)]" }
}

/// A consumed message (its bytes copied out of librdkafka).
public struct KafkaMessage: Sendable, Equatable {
    /// Topic and partition it came from.
    public var topicPartition: TopicPartition
    /// Its offset.
    public var offset: Int64
    /// The key.
    public var key: [UInt8]?
    /// The value.
    public var value: [UInt8]?
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// Producer or broker timestamp, milliseconds since the epoch (nil when absent).
    public var timestampMs: Int64?
    /// The consumer's assignment of the partition this message was fetched under (nil when the
    /// message was built, not consumed): ``KafkaConsumer/markDone(_:)`` refuses a message of an
    /// earlier assignment. Not part of equality.
    var assignmentGeneration: Int?

    /// Creates a message (tests and the DLQ build these).
    public init(topicPartition: TopicPartition, offset: Int64, key: [UInt8]?, value: [UInt8]?, headers: [KafkaHeader], timestampMs: Int64?) {
        self.topicPartition = topicPartition
        self.offset = offset
        self.key = key
        self.value = value
        self.headers = headers
        self.timestampMs = timestampMs
    }

    /// Equal when everything but the consumer's assignment generation is.
    public static func == (lhs: KafkaMessage, rhs: KafkaMessage) -> Bool {
        lhs.topicPartition == rhs.topicPartition && lhs.offset == rhs.offset && lhs.key == rhs.key
            && lhs.value == rhs.value && lhs.headers == rhs.headers && lhs.timestampMs == rhs.timestampMs
    }

    /// The topic.
    public var topic: String { topicPartition.topic }
    /// The partition.
    public var partition: Int32 { topicPartition.partition }
    /// The key as UTF-8 text.
    public var keyText: String? { key.map { String(decoding: $0, as: UTF8.self) } }
    /// The value as UTF-8 text.
    public var valueText: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}
