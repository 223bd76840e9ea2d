/// A message to produce.
public struct ProducerRecord: Sendable, Equatable {
    /// Destination topic.
    public var topic: String
    /// The key; records with the same key go to the same partition (and stay ordered).
    public var key: [UInt8]?
    /// The value (payload).
    public var value: [UInt8]?
    /// Headers, in order.
    public var headers: [KafkaHeader]
    /// An explicit partition, or nil to let the partitioner choose by key.
    public var partition: Int32?

    /// Creates a record.
    public init(topic: String, key: [UInt8]? = nil, value: [UInt8]?, headers: [KafkaHeader] = [], partition: Int32? = nil) {
        self.topic = topic
        self.key = key
        self.value = value
        self.headers = headers
        self.partition = partition
    }
}

/// Where the broker stored a produced message.
public struct DeliveryReport: Sendable, Equatable, Hashable {
    /// The topic.
    public var topic: String
    /// The partition it landed in.
    public var partition: Int32
    /// Its offset in that partition.
    public var offset: Int64

    /// Creates a report.
    public init(topic: String, partition: Int32, offset: Int64) {
        self.topic = topic
        self.partition = partition
        self.offset = offset
    }
}
