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
/// - Rebalances: `cooperative-sticky` by default (incremental assign/unassign). On revoke, messages
///   not yet handed to a handler are dropped (the next owner gets them), handlers already running
///   in ``process(_:)`` are waited for (up to `revokeDrainLimit`), then stored offsets are committed.
/// - Order: one partition's messages are delivered in offset order; ``process(_:)`` runs one
///   task per partition so partitions proceed concurrently.
/// - Flow control: a partition with too many of its own messages waiting is paused alone (so a
///   handler stuck retrying holds back only its partition); when too many wait across the
///   others, they are paused together (the poll loop keeps serving the group). Both resume
///   when drained. ``pause(_:)``/``resume(_:)`` are for the
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
    /// - Parameters:
    ///   - bufferCapacity: Messages waiting (buffered or in processing) across the partitions
    ///     before they are paused; one partition is paused alone at half as many of its own.
    ///   - revokeDrainLimit: How long a revoke waits for running handlers of the revoked partitions.
    public init(
        configuration: KafkaConfiguration, groupID: String, topics: [String], bufferCapacity: Int = 1_000,
        revokeDrainLimit: Duration = .seconds(5), logger: Logger
    ) throws(KafkaError) {
        var merged = configuration
        merged.properties = Self.defaultProperties.merging(configuration.properties) { _, new in new }
        merged["group.id"] = groupID
        let events = ClientEvents(logger: logger)
        let handle = try merged.makeHandle(RD_KAFKA_CONSUMER, events: events) { conf in
            rd_kafka_conf_set_rebalance_cb(conf, consumerRebalanceCallback)
        }
        _ = rd_kafka_poll_set_consumer(handle)
        let core = ConsumerCore(
            handle: handle, events: events, groupID: groupID, bufferCapacity: bufferCapacity,
            revokeDrainLimit: revokeDrainLimit, logger: logger
        )
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

    /// The messages, in order per partition. Ends after ``close()``. Read them from one task,
    /// and either through this sequence or through ``process(_:)``, not both.
    public var messages: Messages { Messages(core: core) }

    /// Stores `message.offset + 1` for commit. Throws when the partition is no longer ours (or
    /// is ours again under a later assignment than the one `message` was fetched under, whose
    /// own progress must not be set back) or the consumer is closed.
    public func markDone(_ message: KafkaMessage) throws(KafkaError) {
        let core = self.core
        // Checked and stored under the assignment lock, which the poll thread's rebalance takes
        // to release a partition: it cannot be released and assigned again in between.
        let error = core.withHandle { handle -> rd_kafka_resp_err_t in
            core.assignment.withLockedValue { state -> rd_kafka_resp_err_t in
                if let generation = message.assignmentGeneration, !state.mayStore(message.topicPartition, generation: generation) {
                    return RD_KAFKA_RESP_ERR__STATE
                }
                let list = TopicPartitionList.make([(message.topicPartition, message.offset + 1)])
                defer { rd_kafka_topic_partition_list_destroy(list) }
                let error = rd_kafka_offsets_store(handle, list)
                guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { return error }
                return TopicPartitionList.read(list).first?.2 ?? RD_KAFKA_RESP_ERR_NO_ERROR
            }
        }
        guard let error else { throw KafkaError.closed }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
    }

    /// Commits stored offsets now (synchronously, off the cooperative pool).
    public func commit() async throws {
        let core = self.core
        let error = try await NIOThreadPool.singleton.runIfActive {
            core.withHandle { rd_kafka_commit($0, nil, 0) }
        }
        guard let error else { throw KafkaError.closed }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR || error == RD_KAFKA_RESP_ERR__NO_OFFSET else { throw KafkaError(error) }
    }

    /// Stops fetching `partition` (for backoff) until ``resume(_:)``.
    public func pause(_ partition: TopicPartition) {
        let core = self.core
        _ = core.withHandle { handle in
            core.assignment.withLockedValue { state in
                state.pausedByUser.insert(partition)
                core.setPaused(handle, [partition], paused: true)
            }
        }
    }

    /// Resumes a partition paused with ``pause(_:)`` (unless flow control holds it paused).
    public func resume(_ partition: TopicPartition) {
        let core = self.core
        _ = core.withHandle { handle in
            core.assignment.withLockedValue { state in
                state.pausedByUser.remove(partition)
                if state.mayResume(partition) { core.setPaused(handle, [partition], paused: false) }
            }
        }
    }

    /// Whether `message`'s partition is still handed out under the assignment it was fetched
    /// under (for a message not fetched by a consumer: whether its partition is assigned). A
    /// handler retrying a message should give up once this is false: the partition's next
    /// owner, or this member's next assignment of it, delivers the message again.
    public func owns(_ message: KafkaMessage) -> Bool {
        core.assignment.withLockedValue { $0.handsOut(message.topicPartition, generation: message.assignmentGeneration) }
    }

    /// The partitions this member currently owns.
    public var assignedPartitions: Set<TopicPartition> {
        core.assignment.withLockedValue { Set($0.generations.keys) }
    }

    /// Runs `handler` for every message until the consumer closes: one task per partition, so a
    /// partition's messages are handled in order while partitions proceed concurrently. A message
    /// whose partition was revoked (or whose consumer is closing) before its turn is skipped, not
    /// handled: the partition's next owner gets it.
    public func process(_ handler: @escaping @Sendable (KafkaMessage) async -> Void) async {
        let core = self.core
        await withDiscardingTaskGroup { group in
            var lanes: [TopicPartition: AsyncStream<MessageBuffer.Entry>.Continuation] = [:]
            while let entry = await core.buffer.next() {
                let partition = entry.message.topicPartition
                core.beginInFlight(partition)
                if lanes[partition] == nil {
                    let (stream, continuation) = AsyncStream.makeStream(of: MessageBuffer.Entry.self)
                    lanes[partition] = continuation
                    group.addTask {
                        for await next in stream {
                            if core.mayHandle(partition, generation: next.generation) { await handler(next.message) }
                            core.endInFlight(partition)
                        }
                    }
                }
                lanes[partition]?.yield(entry)
            }
            lanes.values.forEach { $0.finish() }
        }
    }

    /// Stops delivery, waits (up to `drainLimit`) for running handlers, commits stored offsets,
    /// leaves the group and releases the client. Safe to call more than once.
    public func close(drainLimit: Duration = .seconds(30)) async {
        core.beginStopping()
        await core.waitUntilIdle(limit: drainLimit)
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
                    core.handedOut(entry.message.topicPartition)
                    if core.mayHandle(entry.message.topicPartition, generation: entry.generation) { return entry.message }
                }
                return nil
            }
        }
    }
}
