import CRdKafka
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// The state behind a ``KafkaConsumer``: the librdkafka handle, who owns which partition, the
/// message buffer, flow control and lag metrics. Everything that calls into librdkafka's poll
/// (and so may run the rebalance callback) happens on the poll thread.
///
/// `@unchecked Sendable`: `handle` is an immutable pointer to a thread-safe librdkafka client;
/// all mutable state is in lock-protected boxes.
final class ConsumerCore: @unchecked Sendable {
    struct Assignment {
        /// Partition → generation it was (last) assigned under.
        var generations: [TopicPartition: Int] = [:]
        var nextGeneration = 1
        /// Paused by the application (backoff); flow control never resumes these.
        var pausedByUser: Set<TopicPartition> = []
        /// Paused because the buffer is full.
        var pausedByFlowControl: Set<TopicPartition> = []
        /// Messages handed to processing and not finished yet (counts toward flow control).
        var inFlight = 0
    }

    let handle: OpaquePointer
    let events: ClientEvents
    let buffer = MessageBuffer()
    let assignment = NIOLockedValueBox(Assignment())
    let groupID: String
    let logger: Logger
    private let highWatermark: Int
    private let lowWatermark: Int
    private let lastLagReport = NIOLockedValueBox(ContinuousClock.now)

    init(handle: OpaquePointer, events: ClientEvents, groupID: String, bufferCapacity: Int, logger: Logger) {
        self.handle = handle
        self.events = events
        self.groupID = groupID
        self.logger = logger
        self.highWatermark = bufferCapacity
        self.lowWatermark = max(bufferCapacity / 4, 1)
    }

    /// Whether `generation` is still the current ownership of `partition`.
    func isCurrent(_ partition: TopicPartition, generation: Int) -> Bool {
        assignment.withLockedValue { $0.generations[partition] == generation }
    }

    // MARK: Poll thread

    /// One poll iteration (poll thread only).
    func pollOnce() {
        if let message = rd_kafka_consumer_poll(handle, 100) {
            defer { rd_kafka_message_destroy(message) }
            accept(message)
        }
        applyFlowControl()
        reportLagIfDue()
    }

    private func accept(_ message: UnsafeMutablePointer<rd_kafka_message_t>) {
        let m = message.pointee
        guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
            if m.err != RD_KAFKA_RESP_ERR__PARTITION_EOF {
                logger.warning("kafka consumer error", metadata: ["error": "\(KafkaError(m.err))"])
            }
            return
        }
        let partition = TopicPartition(topic: m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? "", partition: m.partition)
        guard let generation = assignment.withLockedValue({ $0.generations[partition] }) else { return }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        let consumed = KafkaMessage(
            topicPartition: partition,
            offset: m.offset,
            key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
            headers: [KafkaHeader](message: message),
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
        buffer.push(.init(message: consumed, generation: generation))
    }

    /// Pauses every assigned partition while too many messages wait; resumes when drained.
    private func applyFlowControl() {
        let waiting = buffer.count + assignment.withLockedValue { $0.inFlight }
        let (toPause, toResume) = assignment.withLockedValue { state -> ([TopicPartition], [TopicPartition]) in
            if waiting >= highWatermark {
                let pause = state.generations.keys.filter { !state.pausedByFlowControl.contains($0) && !state.pausedByUser.contains($0) }
                state.pausedByFlowControl.formUnion(pause)
                return (pause, [])
            }
            if waiting <= lowWatermark, !state.pausedByFlowControl.isEmpty {
                let resume = state.pausedByFlowControl.filter { state.generations[$0] != nil && !state.pausedByUser.contains($0) }
                state.pausedByFlowControl = []
                return ([], Array(resume))
            }
            return ([], [])
        }
        if !toPause.isEmpty { setPaused(toPause, paused: true) }
        if !toResume.isEmpty { setPaused(toResume, paused: false) }
    }

    func setPaused(_ partitions: [TopicPartition], paused: Bool) {
        let list = TopicPartitionList.make(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = paused ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
    }

    /// Publishes `kafka_consumer_lag{group,topic,partition}` every 5 s (poll thread only).
    private func reportLagIfDue() {
        let now = ContinuousClock.now
        let due = lastLagReport.withLockedValue { last -> Bool in
            guard now - last >= .seconds(5) else { return false }
            last = now
            return true
        }
        guard due else { return }
        let partitions = assignment.withLockedValue { Array($0.generations.keys) }
        guard !partitions.isEmpty else { return }
        let list = TopicPartitionList.make(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        guard rd_kafka_position(handle, list) == RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        for (partition, position, _) in TopicPartitionList.read(list) {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
            let lag = position >= 0 ? max(high - position, 0) : max(high - low, 0)
            Gauge(label: "kafka_consumer_lag", dimensions: [
                ("group", groupID), ("topic", partition.topic), ("partition", String(partition.partition)),
            ]).record(lag)
        }
    }

    // MARK: Rebalance (called by librdkafka on the poll thread)

    func rebalance(_ error: rd_kafka_resp_err_t, _ partitions: UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?) {
        let cooperative = String(cString: rd_kafka_rebalance_protocol(handle)) == "COOPERATIVE"
        let changed = partitions.map { TopicPartitionList.read($0).map(\.0) } ?? []
        switch error {
        case RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS:
            assignment.withLockedValue { state in
                for partition in changed {
                    state.generations[partition] = state.nextGeneration
                    state.nextGeneration += 1
                }
            }
            if cooperative {
                if let failure = rd_kafka_incremental_assign(handle, partitions) { logFailure("incremental assign", KafkaError(consuming: failure)) }
            } else {
                _ = rd_kafka_assign(handle, partitions)
            }
            logger.info("kafka partitions assigned", metadata: ["kafka.partitions": "\(changed.map(\.description).sorted())"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // Commit what processing marked done while we still own it, so the next owner
            // starts right after it (no message marked done is processed twice).
            if rd_kafka_assignment_lost(handle) == 0 {
                let commit = rd_kafka_commit(handle, nil, 0)
                if commit != RD_KAFKA_RESP_ERR_NO_ERROR && commit != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logFailure("commit on revoke", KafkaError(commit))
                }
            }
            assignment.withLockedValue { state in
                for partition in changed {
                    state.generations[partition] = nil
                    state.pausedByUser.remove(partition)
                    state.pausedByFlowControl.remove(partition)
                }
            }
            if cooperative {
                if let failure = rd_kafka_incremental_unassign(handle, partitions) { logFailure("incremental unassign", KafkaError(consuming: failure)) }
            } else {
                _ = rd_kafka_assign(handle, nil)
            }
            logger.info("kafka partitions revoked", metadata: ["kafka.partitions": "\(changed.map(\.description).sorted())"])
        default:
            logFailure("rebalance", KafkaError(error))
            assignment.withLockedValue { $0.generations.removeAll() }
            _ = rd_kafka_assign(handle, nil)
        }
    }

    private func logFailure(_ what: String, _ error: KafkaError) {
        logger.warning("kafka \(what) failed", metadata: ["error": "\(error)"])
    }

    /// Final commit, leave the group, destroy the handle (poll thread, after the last poll).
    func closeOnPollThread() {
        let commit = rd_kafka_commit(handle, nil, 0)
        if commit != RD_KAFKA_RESP_ERR_NO_ERROR && commit != RD_KAFKA_RESP_ERR__NO_OFFSET {
            logFailure("final commit", KafkaError(commit))
        }
        let close = rd_kafka_consumer_close(handle)
        if close != RD_KAFKA_RESP_ERR_NO_ERROR { logFailure("close", KafkaError(close)) }
        events.rebalanceTarget.withLockedValue { $0 = nil }
        rd_kafka_destroy(handle)
        buffer.finish()
    }
}

/// librdkafka's rebalance callback: forwards to the consumer's core.
let consumerRebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { _, error, partitions, opaque in
    guard let opaque else { return }
    let events = Unmanaged<ClientEvents>.fromOpaque(opaque).takeUnretainedValue()
    events.rebalanceTarget.withLockedValue { $0 }?.rebalance(error, partitions)
}
