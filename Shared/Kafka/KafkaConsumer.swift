import CRdKafka
public import Logging
import NIOPosix
public import ServiceLifecycle

/// A consumer-group member: messages as an `AsyncSequence`, explicit "done" per message.
///
/// - Offsets: `enable.auto.offset.store=false`; ``markDone(_:)`` stores offset + 1, which
///   librdkafka's auto-commit commits; stored offsets are also committed synchronously when
///   partitions are revoked and on close, so a message marked done before a rebalance is never
///   delivered to the next owner.
/// - Rebalances: `cooperative-sticky` by default (incremental assign/unassign); messages already
///   buffered for a partition that was revoked are dropped, not delivered.
/// - Order: one partition's messages are delivered in offset order; ``process(_:)`` runs one
///   task per partition so partitions proceed concurrently.
/// - Flow control: when too many messages wait, assigned partitions are paused (the poll loop
///   keeps serving the group) and resumed when drained. ``pause(_:)``/``resume(_:)`` are for the
///   application's own backoff and are never undone by flow control.
/// - Lag: gauge `kafka_consumer_lag{group,topic,partition}`, every 5 s.
/// - As a ServiceLifecycle `Service`, it commits and leaves the group on graceful shutdown.
///   Outside a service group, call ``close()``: the poll thread (and group membership) lasts until then.
public final class KafkaConsumer: Service, Sendable {
    /// Consumer defaults; the configuration overrides them.
    public static let defaultProperties: [String: String] = [
        "enable.auto.commit": "true",
        "auto.commit.interval.ms": "1000",
        "enable.auto.offset.store": "false",
        "auto.offset.reset": "earliest",
        "partition.assignment.strategy": "cooperative-sticky",
        "enable.partition.eof": "false",
    ]

    private let core: ConsumerCore
    private let poller: PollThread

    /// Joins `groupID` and subscribes to `topics`.
    /// - Parameter bufferCapacity: Messages waiting (buffered or in processing) before partitions are paused.
    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], bufferCapacity: Int = 1_000, logger: Logger
    ) throws(KafkaError) {
        var merged = configuration
        merged.properties = Self.defaultProperties.merging(configuration.properties) { _, new in new }
        merged["group.id"] = groupID
        let events = ClientEvents(logger: logger)
        let handle = try merged.makeHandle(RD_KAFKA_CONSUMER, events: events) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
        }
        _ = rd_kafka_poll_set_consumer(handle)
        let core = ConsumerCore(handle: handle, events: events, groupID: groupID, bufferCapacity: bufferCapacity, logger: logger)
        events.rebalanceTarget.withLockedValue { $0 = core }
        let list = TopicPartitionList.make(topics.map { (TopicPartition(topic: $0, partition: -1), nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let subscribed = rd_kafka_subscribe(handle, list)
        guard subscribed == RD_KAFKA_RESP_ERR_NO_ERROR else {
            events.rebalanceTarget.withLockedValue { $0 = nil }
            rd_kafka_destroy(handle)
            throw KafkaError(subscribed)
        }
        self.core = core
        self.poller = PollThread(name: "kafka-consumer-poll", body: { core.pollOnce() }, finish: { core.closeOnPollThread() })
    }

    /// The messages, in order per partition. Ends after ``close()``.
    public var messages: Messages { Messages(core: core) }

    /// Stores `message.offset + 1` for commit. Throws when the partition is no longer ours.
    public func markDone(_ message: KafkaMessage) throws(KafkaError) {
        let list = TopicPartitionList.make([(message.topicPartition, message.offset + 1)])
        defer { rd_kafka_topic_partition_list_destroy(list) }
        let error = rd_kafka_offsets_store(core.handle, list)
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
        if let (_, _, elementError) = TopicPartitionList.read(list).first, elementError != RD_KAFKA_RESP_ERR_NO_ERROR {
            throw KafkaError(elementError)
        }
    }

    /// Commits stored offsets now (synchronously, off the cooperative pool).
    public func commit() async throws {
        let handle = SendableHandle(pointer: core.handle)
        let error = try await NIOThreadPool.singleton.runIfActive { rd_kafka_commit(handle.pointer, nil, 0) }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET else { throw KafkaError(error) }
    }

    /// Stops fetching `partition` (for backoff) until ``resume(_:)``.
    public func pause(_ partition: TopicPartition) {
        core.assignment.withLockedValue { _ = $0.pausedByUser.insert(partition) }
        core.setPaused([partition], paused: true)
    }

    /// Resumes a partition paused with ``pause(_:)``.
    public func resume(_ partition: TopicPartition) {
        let flowPaused = core.assignment.withLockedValue { state -> Bool in
            state.pausedByUser.remove(partition)
            return state.pausedByFlowControl.contains(partition)
        }
        if !flowPaused { core.setPaused([partition], paused: false) }
    }

    /// The partitions this member currently owns.
    public var assignedPartitions: Set<TopicPartition> {
        core.assignment.withLockedValue { Set($0.generations.keys) }
    }

    /// Runs `handler` for every message until the sequence ends: one task per partition, so a
    /// partition's messages are handled in order while partitions proceed concurrently.
    public func process(_ handler: @escaping @Sendable (KafkaMessage) async -> Void) async {
        let core = self.core
        await withDiscardingTaskGroup { group in
            var lanes: [TopicPartition: AsyncStream<KafkaMessage>.Continuation] = [:]
            for await message in messages {
                core.assignment.withLockedValue { $0.inFlight += 1 }
                if lanes[message.topicPartition] == nil {
                    let (stream, continuation) = AsyncStream.makeStream(of: KafkaMessage.self)
                    lanes[message.topicPartition] = continuation
                    group.addTask {
                        for await next in stream {
                            await handler(next)
                            core.assignment.withLockedValue { $0.inFlight -= 1 }
                        }
                    }
                }
                lanes[message.topicPartition]?.yield(message)
            }
            lanes.values.forEach { $0.finish() }
        }
    }

    /// Commits stored offsets, leaves the group and ends ``messages``.
    public func close() async {
        await poller.stop()
    }

    /// Runs until graceful shutdown, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// The consumed messages as an `AsyncSequence`.
    public struct Messages: AsyncSequence, Sendable {
        public typealias Element = KafkaMessage
        fileprivate let core: ConsumerCore

        public func makeAsyncIterator() -> Iterator { Iterator(core: core) }

        /// Iterates one consumer's messages; use from one task at a time.
        public struct Iterator: AsyncIteratorProtocol {
            fileprivate let core: ConsumerCore

            public mutating func next() async -> KafkaMessage? {
                while let entry = await core.buffer.next() {
                    if core.isCurrent(entry.message.topicPartition, generation: entry.generation) { return entry.message }
                }
                return nil
            }
        }
    }
}
