import CRdKafka
public import Logging
import NIOConcurrencyHelpers
public import ServiceLifecycle

/// An idempotent Kafka producer whose `send` resumes when the broker has acknowledged.
///
/// - Defaults (``defaultProperties``): `enable.idempotence=true`, `acks=all`, `linger.ms=5`,
///   lz4 compression, `message.timeout.ms=30000` — a send to an unreachable cluster fails with
///   `_MSG_TIMED_OUT` after that long, and works again once the cluster is back.
/// - Batches: ``send(_:)-([ProducerRecord])`` enqueues every record, then awaits all reports:
///   one round trip's worth of waiting for the whole batch, never one per message.
/// - Threads: a task inside ``enqueue(_:ordering:)`` serves delivery reports itself (without blocking);
///   otherwise a dedicated poll thread does. Blocking calls (flush, destroy) run on NIO's
///   blocking pool. Nothing blocks Swift's cooperative pool. See ADR 0003.
/// - Fatal errors (idempotence violated), and any message timing out: the handle is replaced on
///   the next send (with ``EnqueueOrdering/gapless(replacingFailedClient:)``, only when the
///   caller allows it), so the next message starts under a fresh producer id. After a timed-out
///   in-flight request librdkafka bumps the producer epoch and restarts sequence numbers; brokers
///   without KIP-360 support (Tansu 0.x) reject that forever as a sequence gap. See ADR 0003.
/// - As a ServiceLifecycle `Service`, it flushes and closes on graceful shutdown. Outside a
///   service group, call ``close(flushTimeout:)``: the poll thread runs until then.
public final class KafkaProducer: Service, Sendable {
    /// Safe producer defaults; anything in the configuration overrides them.
    public static let defaultProperties: [String: String] = [
        "enable.idempotence": "true",
        "acks": "all",
        "linger.ms": "5",
        "compression.type": "lz4",
        "message.timeout.ms": "30000",
        "client.id": "orderflow",
    ]

    private let configuration: KafkaConfiguration
    private let logger: Logger
    private let current: NIOLockedValueBox<ProducerHandle?>

    /// Creates the producer (and connects lazily).
    public init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        var merged = configuration
        merged.properties = Self.defaultProperties.merging(configuration.properties) { _, new in new }
        self.configuration = merged
        self.logger = logger
        self.current = NIOLockedValueBox(try ProducerHandle(configuration: merged, logger: logger))
    }

    /// Sends one record and returns where it was stored.
    public func send(_ record: ProducerRecord) async throws(KafkaError) -> DeliveryReport {
        try await send([record])[0]
    }

    /// Sends many records and waits for all; throws the first failure (after all are settled).
    public func send(_ records: [ProducerRecord]) async throws(KafkaError) -> [DeliveryReport] {
        var reports: [DeliveryReport] = []
        reports.reserveCapacity(records.count)
        for result in try await sendAll(records) {
            switch result {
            case .success(let report): reports.append(report)
            case .failure(let error): throw error
            }
        }
        return reports
    }

    /// Sends many records and returns each one's outcome, in order.
    public func sendAll(_ records: [ProducerRecord]) async throws(KafkaError) -> [Result<DeliveryReport, KafkaError>] {
        try await enqueue(records).outcomes()
    }

    /// Enqueues `records` (in order, waiting only while librdkafka's local queue is full) and
    /// returns a handle to await their delivery later. Lets one task keep a window of batches in
    /// flight without enqueuing from several threads at once. `ordering` says what a refused
    /// record does to the records after it (``EnqueueOrdering``). Once the producer is closing
    /// (or its handle is replaced), or the calling task is cancelled, a full queue is no longer
    /// waited for: the records not yet queued fail with `_PURGE_QUEUE`, in order (with
    /// ``EnqueueOrdering/gapless(replacingFailedClient:)``, ``PendingDeliveries/firstRefused``
    /// is the first of them).
    public func enqueue(_ records: [ProducerRecord], ordering: EnqueueOrdering = .independent) async throws(KafkaError) -> PendingDeliveries {
        let handle: ProducerHandle
        switch ordering {
        case .independent: handle = try acquireHandle(replacingFailed: true)
        case .gapless(let replacing): handle = try acquireHandle(replacingFailed: replacing)
        }
        let stopsAtRefusal = ordering != .independent
        var firstRefused: Int?
        defer { handle.users.withLockedValue { $0 -= 1 } }
        let batch = DeliveryBatch(count: records.count)
        var topicName = ""
        var topic: OpaquePointer?
        var next = 0
        var retriedAfterFull = false
        var generationAtFull: UInt64 = 0
        handle.enqueuers.enter()
        defer { handle.enqueuers.leave() }
        while next < records.count {
            // Enqueue in order until librdkafka's queue is full, then wait for delivery reports to
            // free room and continue from the same record (retrying a later one first would break
            // key order).
            let stoppedAt = records.withUnsafeBufferPointer { records -> Int in
                for index in next..<records.count {
                    // Serve ready delivery reports inline now and then (never blocks), as
                    // librdkafka's own tools do: it saves the poll thread a wake-up per report.
                    if index & 255 == 255 { handle.serveReadyReports() }
                    if records[index].topic != topicName || topic == nil {
                        topicName = records[index].topic
                        topic = handle.topicHandle(topicName)
                    }
                    let error = topic.map { handle.enqueue(records[index], topic: $0, opaque: batch.opaque(for: index)) }
                        ?? RD_KAFKA_RESP_ERR__INVALID_ARG
                    if error == RD_KAFKA_RESP_ERR__QUEUE_FULL { return index }
                    if error != RD_KAFKA_RESP_ERR_NO_ERROR {
                        batch.complete(index, .init(error: error))
                        if stopsAtRefusal {
                            firstRefused = index
                            for later in (index + 1)..<records.count { batch.complete(later, .init(error: RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE)) }
                            return records.count
                        }
                    }
                }
                return records.count
            }
            guard stoppedAt < records.count else { break }
            if stoppedAt > next || !retriedAfterFull {
                // Full: note how many reports were applied, serve any ready ones, try once more.
                generationAtFull = handle.queueSpace.generation
                handle.serveReadyReports()
                retriedAfterFull = true
            } else if handle.queueSpace.isClosed || Task.isCancelled {
                // Still full, and the handle is shutting down or the caller was cancelled (the
                // broker may never free room): what is left fails as purged, in order, and a
                // shutdown waiting for this enqueuer (or a task group waiting for this task) ends.
                if stopsAtRefusal { firstRefused = stoppedAt }
                for index in stoppedAt..<records.count { batch.complete(index, .init(error: RD_KAFKA_RESP_ERR__PURGE_QUEUE)) }
                break
            } else {
                // Still full on the retry: wait until reports applied since then free room, the
                // handle shuts down or the task is cancelled. The poll thread, or another
                // enqueuer, serves them meanwhile.
                handle.enqueuers.leave()
                await handle.queueSpace.wait(after: generationAtFull)
                handle.enqueuers.enter()
                retriedAfterFull = false
            }
            next = stoppedAt
        }
        return PendingDeliveries(batch: batch, records: records, handle: handle, firstRefused: firstRefused)
    }

    /// Records enqueued by ``KafkaProducer/enqueue(_:ordering:)`` whose delivery reports may still be coming.
    public struct PendingDeliveries: Sendable {
        fileprivate let batch: DeliveryBatch
        fileprivate let records: [ProducerRecord]
        fileprivate let handle: ProducerHandle
        /// With ``EnqueueOrdering/gapless(replacingFailedClient:)``: the index of the record
        /// librdkafka refused, or of the first one left unqueued because the producer closed or
        /// the caller was cancelled while the queue was full; nothing after it was attempted.
        /// `nil` when all were queued.
        public let firstRefused: Int?

        /// Waits for every report; each record's outcome, in order.
        public func outcomes() async -> [Result<DeliveryReport, KafkaError>] {
            let outcomes = await batch.wait()
            var results: [Result<DeliveryReport, KafkaError>] = []
            results.reserveCapacity(outcomes.count)
            var timedOut = false
            for (outcome, record) in zip(outcomes, records) {
                if outcome.error == RD_KAFKA_RESP_ERR_NO_ERROR {
                    results.append(.success(DeliveryReport(topic: record.topic, partition: outcome.partition, offset: outcome.offset)))
                } else {
                    timedOut = timedOut || outcome.error == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT
                    results.append(.failure(KafkaError(outcome.error)))
                }
            }
            // A timed-out delivery poisons the idempotent sequence on brokers without KIP-360.
            if timedOut { handle.events.requestReplacement() }
            return results
        }

        /// Waits for every report and throws the first failure, without building a report per
        /// record — for callers that only need "all acknowledged or why not".
        public func confirm() async throws(KafkaError) {
            let outcomes = await batch.wait()
            guard let failed = outcomes.first(where: { $0.error != RD_KAFKA_RESP_ERR_NO_ERROR }) else { return }
            if outcomes.contains(where: { $0.error == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT }) { handle.events.requestReplacement() }
            throw KafkaError(failed.error)
        }
    }

    /// Tasks inside ``enqueue(_:ordering:)`` waiting for room in librdkafka's local queue.
    var enqueuersWaitingForRoom: Int {
        current.withLockedValue { $0?.queueSpace.waiting ?? 0 }
    }

    /// Waits until everything queued was delivered (or failed), at most `timeout`.
    public func flush(timeout: Duration = .seconds(10)) async throws {
        let handle = try acquireHandle()
        defer { handle.users.withLockedValue { $0 -= 1 } }
        try await handle.flush(timeout: timeout)
    }

    /// Settles at once whatever is still queued or in flight on a client that has failed (a fatal
    /// error): it sends nothing more, and under `message.timeout.ms=0` its records would wait for
    /// ever. Each fails with a `_PURGE_*` error, so a caller that waits for every earlier record
    /// to settle before replacing the client (``EnqueueOrdering/gapless(replacingFailedClient:)``)
    /// gets there. Does nothing while the client works.
    public func settleIfFailed() {
        current.withLockedValue { current in
            guard let handle = current, handle.events.needsReplacement else { return }
            handle.purgeNow()
        }
    }

    /// Flushes (up to `flushTimeout`), fails what is left, and releases the client.
    public func close(flushTimeout: Duration = .seconds(10)) async {
        guard let handle = current.withLockedValue({ current in defer { current = nil }; return current }) else { return }
        do {
            try await handle.flush(timeout: flushTimeout)
        } catch {
            logger.warning("kafka producer closed with undelivered messages", metadata: ["error": "\(error)", "kafka.queue": "\(handle.queueLength)"])
        }
        await handle.shutdown()
    }

    /// Runs until graceful shutdown, then flushes and closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// The current handle with its user count raised (the caller lowers it when done), replacing
    /// it first when it needs replacement and `replacingFailed`. A replaced handle shuts down
    /// once its users are gone.
    private func acquireHandle(replacingFailed: Bool = true) throws(KafkaError) -> ProducerHandle {
        let outcome = current.withLockedValue { current -> Result<(ProducerHandle, ProducerHandle?), KafkaError> in
            guard let existing = current else { return .failure(KafkaError.closed) }
            guard replacingFailed, existing.events.needsReplacement else {
                existing.users.withLockedValue { $0 += 1 }
                return .success((existing, nil))
            }
            return Result { () throws(KafkaError) -> ProducerHandle in
                try ProducerHandle(configuration: configuration, logger: logger)
            }.map { fresh in
                current = fresh
                fresh.users.withLockedValue { $0 += 1 }
                return (fresh, existing)
            }
        }
        let (handle, replaced) = try outcome.get()
        if let replaced {
            logger.warning("replaced the kafka producer handle after a fatal error or a delivery timeout")
            Task { await replaced.shutdown() }
        }
        return handle
    }
}
