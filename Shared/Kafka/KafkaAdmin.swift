import CRdKafka
public import Logging
import NIOPosix

/// A topic as the cluster describes it.
public struct TopicDescription: Sendable, Equatable {
    /// Topic name.
    public var name: String
    /// Number of partitions.
    public var partitions: Int

    /// Creates a description.
    public init(name: String, partitions: Int) {
        self.name = name
        self.partitions = partitions
    }
}

/// Topic administration: idempotent creation, listing, describing.
///
/// Holds one librdkafka handle; the blocking admin calls run on NIO's blocking pool.
public final class KafkaAdmin: @unchecked Sendable {
    // @unchecked: `handle` is an immutable pointer to a thread-safe librdkafka client.
    private let handle: OpaquePointer
    private let events: ClientEvents

    /// Creates an admin client.
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        let events = ClientEvents(logger: logger)
        self.handle = try configuration.makeHandle(RD_KAFKA_PRODUCER, events: events)
        self.events = events
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    /// Creates each topic that does not exist yet; existing topics are left as they are.
    /// - Returns: The names that were created by this call.
    @discardableResult
    public func createTopics(
        _ names: [String], partitions: Int = 6, replicationFactor: Int = 1, timeout: Duration = .seconds(15)
    ) async throws -> [String] {
        let sendable = SendableHandle(pointer: handle)
        return try await NIOThreadPool.singleton.runIfActive {
            let handle = sendable.pointer
            var errorBuffer = [CChar](repeating: 0, count: 512)
            var newTopics: [OpaquePointer?] = []
            defer { newTopics.forEach { rd_kafka_NewTopic_destroy($0) } }
            for name in names {
                guard let topic = rd_kafka_NewTopic_new(name, Int32(partitions), Int32(replicationFactor), &errorBuffer, errorBuffer.count) else {
                    throw KafkaError(code: "_INVALID_ARG", message: String(cStringBuffer: errorBuffer))
                }
                newTopics.append(topic)
            }
            guard let queue = rd_kafka_queue_new(handle) else { throw KafkaError(code: "_CREATE", message: "cannot create a queue") }
            defer { rd_kafka_queue_destroy(queue) }
            let options = rd_kafka_AdminOptions_new(handle, RD_KAFKA_ADMIN_OP_CREATETOPICS)
            defer { rd_kafka_AdminOptions_destroy(options) }
            _ = rd_kafka_AdminOptions_set_operation_timeout(options, Int32(clamping: timeout.milliseconds), &errorBuffer, errorBuffer.count)
            _ = rd_kafka_AdminOptions_set_request_timeout(options, Int32(clamping: timeout.milliseconds), &errorBuffer, errorBuffer.count)
            newTopics.withUnsafeMutableBufferPointer { buffer in
                rd_kafka_CreateTopics(handle, buffer.baseAddress, buffer.count, options, queue)
            }
            guard let event = rd_kafka_queue_poll(queue, Int32(clamping: timeout.milliseconds + 1000)) else {
                throw KafkaError(code: "_TIMED_OUT", message: "no answer to CreateTopics")
            }
            defer { rd_kafka_event_destroy(event) }
            let eventError = rd_kafka_event_error(event)
            guard eventError == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(eventError) }
            var count = 0
            guard let result = rd_kafka_event_CreateTopics_result(event),
                  let results = rd_kafka_CreateTopics_result_topics(result, &count)
            else { throw KafkaError(code: "_BAD_MSG", message: "CreateTopics returned no result") }
            var created: [String] = []
            for index in 0..<count {
                let topicResult = results[index]
                let error = rd_kafka_topic_result_error(topicResult)
                let name = String(cString: rd_kafka_topic_result_name(topicResult))
                switch error {
                case RD_KAFKA_RESP_ERR_NO_ERROR: created.append(name)
                case RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS: continue
                default: throw KafkaError(error)
                }
            }
            return created
        }
    }

    /// Every topic in the cluster with its partition count, sorted by name.
    public func describeTopics(timeout: Duration = .seconds(5)) async throws -> [TopicDescription] {
        let sendable = SendableHandle(pointer: handle)
        return try await NIOThreadPool.singleton.runIfActive {
            let handle = sendable.pointer
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let error = rd_kafka_metadata(handle, 1, nil, &metadata, Int32(clamping: timeout.milliseconds))
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR, let metadata else { throw KafkaError(error) }
            defer { rd_kafka_metadata_destroy(metadata) }
            let topics = UnsafeBufferPointer(start: metadata.pointee.topics, count: Int(metadata.pointee.topic_cnt))
            return topics
                .filter { $0.err == RD_KAFKA_RESP_ERR_NO_ERROR }
                .map { TopicDescription(name: String(cString: $0.topic), partitions: Int($0.partition_cnt)) }
                .sorted { $0.name < $1.name }
        }
    }

    /// The names of every topic in the cluster.
    public func listTopics(timeout: Duration = .seconds(5)) async throws -> [String] {
        try await describeTopics(timeout: timeout).map(\.name)
    }

    /// The low and high watermark of every partition of `topic`, asked of the partition leaders.
    public func watermarks(topic: String, timeout: Duration = .seconds(5)) async throws -> [PartitionWatermarks] {
        guard let description = try await describeTopics(timeout: timeout).first(where: { $0.name == topic }) else {
            throw KafkaError(code: "UNKNOWN_TOPIC_OR_PART", message: "topic \(topic) does not exist")
        }
        let sendable = SendableHandle(pointer: handle)
        return try await NIOThreadPool.singleton.runIfActive {
            try (0..<Int32(description.partitions)).map { partition in
                var low: Int64 = 0
                var high: Int64 = 0
                let error = rd_kafka_query_watermark_offsets(
                    sendable.pointer, topic, partition, &low, &high, Int32(clamping: timeout.milliseconds)
                )
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
                return PartitionWatermarks(partition: partition, low: low, high: high)
            }
        }
    }
}

/// The offsets a partition holds: `low..<high` (empty when equal).
public struct PartitionWatermarks: Sendable, Equatable {
    /// The partition.
    public var partition: Int32
    /// The first offset still stored.
    public var low: Int64
    /// The offset the next message will get.
    public var high: Int64

    /// Creates watermarks.
    public init(partition: Int32, low: Int64, high: Int64) {
        self.partition = partition
        self.low = low
        self.high = high
    }
}
