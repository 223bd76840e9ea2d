import CRdKafka
import Dispatch
import Logging
import Metrics
import NIOConcurrencyHelpers
import NIOPosix

/// The state behind a ``KafkaConsumer``: the librdkafka handle, who owns which partition, the
/// message buffer, in-flight work, flow control and lag metrics. Everything that calls into
/// librdkafka's poll (and so may run the rebalance callback) happens on the poll thread.
///
/// `@unchecked Sendable`: `handle` is an immutable pointer to a thread-safe librdkafka client that
/// is destroyed only under `handleLock` once no caller can reach it (see ``withHandle(_:)``);
/// all mutable state is in lock-protected boxes.
final class ConsumerCore: @unchecked Sendable {
    struct Assignment {
        /// Partition → generation it was (last) assigned under; removed when its revoke begins,
        /// so nothing more of it is handed out.
        var generations: [TopicPartition: Int] = [:]
        /// Partition → generation whose messages may still be marked done: kept through a
        /// revoke's drain and commit, removed just before the unassign. A handler that outlived
        /// the drain and finishes after the partition came back under a new generation is refused,
        /// so it cannot store an offset behind the new assignment's.
        var storable: [TopicPartition: Int] = [:]
        var nextGeneration = 1
        /// Paused by the application (backoff); flow control never resumes these.
        var pausedByUser: Set<TopicPartition> = []
        /// What flow control holds back (``FlowControl``).
        var flow: FlowControl
        /// Messages handed to `process` lanes and not finished (or skipped) yet, per partition.
        var inFlight: [TopicPartition: Int] = [:]
        /// Messages fetched and not yet finished (``process``) or handed out (``messages``), per
        /// partition: those in the buffer plus those in flight.
        var fetched: [TopicPartition: Int] = [:]
        /// Set by `close`: lanes skip what they still hold; the buffer delivers nothing more.
        var stopping = false

        var totalInFlight: Int { inFlight.values.reduce(0, +) }

        /// Gives each of `partitions` a new generation.
        mutating func assign(_ partitions: [TopicPartition]) {
            for partition in partitions {
                generations[partition] = nextGeneration
                storable[partition] = nextGeneration
                nextGeneration += 1
            }
        }

        /// A revoke begins: nothing more of `partitions` is handed out; running handlers may
        /// still mark their messages done.
        mutating func stopHandingOut(_ partitions: [TopicPartition]) {
            for partition in partitions {
                generations[partition] = nil
                pausedByUser.remove(partition)
                flow.forget(partition)
            }
        }

        /// A revoke ends (drained and committed): `partitions`' messages may no longer be marked done.
        mutating func release(_ partitions: [TopicPartition]) {
            for partition in partitions { storable[partition] = nil }
        }

        /// Whether `partition` is handed out under `generation` (under any, when it is nil).
        func handsOut(_ partition: TopicPartition, generation: Int?) -> Bool {
            guard let current = generations[partition] else { return false }
            return generation.map { $0 == current } ?? true
        }

        /// Whether a message of `partition` fetched under `generation` may have its offset stored.
        func mayStore(_ partition: TopicPartition, generation: Int) -> Bool {
            storable[partition] == generation
        }

        /// Whether nothing holds `partition` paused any more (and it is still ours).
        func mayResume(_ partition: TopicPartition) -> Bool {
            generations[partition] != nil && !pausedByUser.contains(partition) && !flow.holds(partition)
        }
    }

    let events: ClientEvents
    let buffer = MessageBuffer()
    let assignment: NIOLockedValueBox<Assignment>
    let groupID: String
    let logger: Logger
    private let handle: OpaquePointer
    /// Guards the handle's lifetime: held by callers from other threads while they use it, and by
    /// the poll thread while it destroys it.
    private let handleLock = NIOLockedValueBox(true)
    private let revokeDrainLimit: Duration
    private let lastLagReport = NIOLockedValueBox(ContinuousClock.now)

    init(handle: OpaquePointer, events: ClientEvents, groupID: String, bufferCapacity: Int, revokeDrainLimit: Duration, logger: Logger) {
        self.handle = handle
        self.events = events
        self.groupID = groupID
        self.logger = logger
        self.assignment = NIOLockedValueBox(Assignment(flow: FlowControl(capacity: bufferCapacity)))
        self.revokeDrainLimit = revokeDrainLimit
    }

    /// Runs `body` with the handle if it is still alive (callers on any thread).
    func withHandle<T>(_ body: (OpaquePointer) -> T) -> T? {
        handleLock.withLockedValue { isOpen in isOpen ? body(handle) : nil }
    }

    /// Whether a message fetched under `generation` may still be handled.
    func mayHandle(_ partition: TopicPartition, generation: Int) -> Bool {
        assignment.withLockedValue { !$0.stopping && $0.handsOut(partition, generation: generation) }
    }

    func beginInFlight(_ partition: TopicPartition) {
        assignment.withLockedValue { $0.inFlight[partition, default: 0] += 1 }
    }

    /// A lane finished (or skipped) a message of `partition`.
    func endInFlight(_ partition: TopicPartition) {
        assignment.withLockedValue { state in
            let left = (state.inFlight[partition] ?? 1) - 1
            state.inFlight[partition] = left > 0 ? left : nil
            Self.settle(partition, in: &state)
        }
    }

    /// The ``KafkaConsumer/messages`` iterator took a message of `partition` from the buffer.
    func handedOut(_ partition: TopicPartition) {
        assignment.withLockedValue { Self.settle(partition, in: &$0) }
    }

    private static func settle(_ partition: TopicPartition, in state: inout Assignment) {
        let left = (state.fetched[partition] ?? 1) - 1
        state.fetched[partition] = left > 0 ? left : nil
    }

    /// Pauses or resumes `partitions` in librdkafka (caller holds whatever ordering it needs).
    func setPaused(_ handle: OpaquePointer, _ partitions: [TopicPartition], paused: Bool) {
        guard !partitions.isEmpty else { return }
        let list = TopicPartitionList.make(partitions.map { ($0, nil) })
        defer { rd_kafka_topic_partition_list_destroy(list) }
        _ = paused ? rd_kafka_pause_partitions(handle, list) : rd_kafka_resume_partitions(handle, list)
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
        let generation = assignment.withLockedValue { state -> Int? in
            guard let generation = state.generations[partition] else { return nil }
            state.fetched[partition, default: 0] += 1
            return generation
        }
        guard let generation else { return }
        var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
        let timestamp = rd_kafka_message_timestamp(message, &timestampType)
        var consumed = KafkaMessage(
            topicPartition: partition,
            offset: m.offset,
            key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
            value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
            headers: [KafkaHeader](message: message),
            timestampMs: timestampType == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? nil : timestamp
        )
        consumed.assignmentGeneration = generation
        buffer.push(.init(message: consumed, generation: generation))
    }

    /// Applies ``FlowControl``'s decision to librdkafka (poll thread). librdkafka is called
    /// under the assignment lock, so a concurrent application ``KafkaConsumer/pause(_:)``
    /// cannot be undone by a late flow-control resume.
    private func applyFlowControl() {
        assignment.withLockedValue { state in
            let changes = state.flow.update(assigned: Set(state.generations.keys), waiting: state.fetched, appPaused: state.pausedByUser)
            setPaused(handle, Array(changes.hold.filter { !state.pausedByUser.contains($0) }), paused: true)
            setPaused(handle, Array(changes.release.filter { state.mayResume($0) }), paused: false)
        }
    }

    /// Publishes `kafka_consumer_lag{group,topic,partition}` — high watermark minus the committed
    /// offset — every 5 s (poll thread only).
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
        guard rd_kafka_committed(handle, list, 1_000) == RD_KAFKA_RESP_ERR_NO_ERROR else { return }
        for (partition, committed, _) in TopicPartitionList.read(list) {
            var low: Int64 = 0
            var high: Int64 = 0
            guard rd_kafka_get_watermark_offsets(handle, partition.topic, partition.partition, &low, &high) == RD_KAFKA_RESP_ERR_NO_ERROR,
                  high >= 0
            else { continue }
            let lag = committed >= 0 ? max(high - committed, 0) : max(high - low, 0)
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
            assignment.withLockedValue { $0.assign(changed) }
            if cooperative {
                if let failure = rd_kafka_incremental_assign(handle, partitions) { logFailure("incremental assign", KafkaError(consuming: failure)) }
            } else {
                _ = rd_kafka_assign(handle, partitions)
            }
            // Every assignment starts unpaused: librdkafka keeps an application's pause across a
            // revoke and a later assignment of the same partition, while everything that paused
            // it here (backoff, flow control) was forgotten at the revoke.
            assignment.withLockedValue { state in
                for partition in changed {
                    state.pausedByUser.remove(partition)
                    state.flow.forget(partition)
                }
                setPaused(handle, changed, paused: false)
            }
            logger.info("kafka partitions assigned", metadata: ["kafka.partitions": "\(changed.map(\.description).sorted())"])
        case RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS:
            // 1. Stop handing out these partitions' messages (lanes skip what they hold).
            assignment.withLockedValue { $0.stopHandingOut(changed) }
            // 2. Let handlers already running for them finish and mark their messages done.
            if rd_kafka_assignment_lost(handle) == 0 { waitForInFlight(of: Set(changed)) }
            // 3. Commit what was marked done while we still own it, so the next owner starts
            //    right after it (no message marked done is processed twice).
            if rd_kafka_assignment_lost(handle) == 0 {
                let commit = rd_kafka_commit(handle, nil, 0)
                if commit != RD_KAFKA_RESP_ERR_NO_ERROR && commit != RD_KAFKA_RESP_ERR__NO_OFFSET {
                    logFailure("commit on revoke", KafkaError(commit))
                }
            }
            assignment.withLockedValue { $0.release(changed) }
            if cooperative {
                if let failure = rd_kafka_incremental_unassign(handle, partitions) { logFailure("incremental unassign", KafkaError(consuming: failure)) }
            } else {
                _ = rd_kafka_assign(handle, nil)
            }
            logger.info("kafka partitions revoked", metadata: ["kafka.partitions": "\(changed.map(\.description).sorted())"])
        default:
            logFailure("rebalance", KafkaError(error))
            assignment.withLockedValue { state in
                state.generations.removeAll()
                state.storable.removeAll()
            }
            _ = rd_kafka_assign(handle, nil)
        }
    }

    /// Blocks the poll thread (never the cooperative pool) until no handler works on `partitions`,
    /// at most `revokeDrainLimit`.
    private func waitForInFlight(of partitions: Set<TopicPartition>) {
        let deadline = ContinuousClock.now + revokeDrainLimit
        while assignment.withLockedValue({ state in partitions.contains { state.inFlight[$0] != nil } }) {
            guard ContinuousClock.now < deadline else {
                logger.warning("kafka revoke: handlers still running after the drain limit; their messages may be processed again by the next owner")
                return
            }
            usleep(1_000)
        }
    }

    private func logFailure(_ what: String, _ error: KafkaError) {
        logger.warning("kafka \(what) failed", metadata: ["error": "\(error)"])
    }

    // MARK: Close

    /// Stops delivery (buffered messages are dropped; lanes skip what they still hold).
    func beginStopping() {
        assignment.withLockedValue { $0.stopping = true }
        buffer.finish(discardingPending: true)
    }

    /// Waits until no handler is running, at most `limit` (never blocks the cooperative pool).
    func waitUntilIdle(limit: Duration) async {
        let deadline = ContinuousClock.now + limit
        while assignment.withLockedValue({ $0.totalInFlight > 0 }), ContinuousClock.now < deadline {
            await sleepIgnoringCancellation(.milliseconds(5))
        }
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
        handleLock.withLockedValue { isOpen in
            isOpen = false
            rd_kafka_destroy(handle)
        }
        buffer.finish(discardingPending: true)
    }
}

/// Sleeps even when the task is cancelled (shutdown paths must still wait).
func sleepIgnoringCancellation(_ duration: Duration) async {
    await withCheckedContinuation { continuation in
        DispatchQueue.global().asyncAfter(deadline: .now() + .microseconds(Int(duration.milliseconds * 1000))) {
            continuation.resume()
        }
    }
}

/// librdkafka's rebalance callback: forwards to the consumer's core.
let consumerRebalanceCallback: @convention(c) (OpaquePointer?, rd_kafka_resp_err_t, UnsafeMutablePointer<rd_kafka_topic_partition_list_t>?, UnsafeMutableRawPointer?) -> Void = { _, error, partitions, opaque in
    guard let opaque else { return }
    let events = Unmanaged<ClientEvents>.fromOpaque(opaque).takeUnretainedValue()
    events.rebalanceTarget.withLockedValue { $0 }?.rebalance(error, partitions)
}
