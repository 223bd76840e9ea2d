import CRdKafka
import Logging
import NIOConcurrencyHelpers
import NIOPosix

/// One librdkafka producer handle with its poll thread.
///
/// `@unchecked Sendable`: `handle` is an immutable pointer to a librdkafka client, whose API is
/// thread-safe; everything else is immutable or itself Sendable.
final class ProducerHandle: @unchecked Sendable {
    let handle: OpaquePointer
    let events: ClientEvents
    private let mainQueue: SendableHandle
    private let poller: PollThread
    /// Topic handles by name: producing by handle skips librdkafka's per-message topic lookup
    /// (which takes a write lock). Destroyed in ``shutdown()``.
    private let topics = NIOLockedValueBox<[String: SendableHandle]>([:])
    /// Callers currently enqueuing through this handle (see ``KafkaProducer``'s `acquireHandle`).
    let users = NIOLockedValueBox(0)
    /// Signalled whenever delivery reports were applied (they free room in librdkafka's queue).
    let queueSpace = QueueSpaceSignal()
    /// Tasks enqueuing right now; while any is, it serves delivery reports and the poll thread waits.
    let enqueuers = ActiveEnqueuers()

    init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        let events = ClientEvents(logger: logger)
        // Delivery reports and errors arrive as events on the main queue: one event carries many
        // reports, which are applied to their batches under one lock each.
        let handle = try configuration.makeHandle(RD_KAFKA_PRODUCER, events: events) { conf in
            rd_kafka_conf_set_events(conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR)
        }
        guard let queue = rd_kafka_queue_get_main(handle) else {
            rd_kafka_destroy(handle)
            throw KafkaError(code: "_CREATE", message: "cannot get the main queue")
        }
        self.handle = handle
        self.events = events
        self.mainQueue = SendableHandle(pointer: queue)
        let mainQueue = self.mainQueue
        let queueSpace = self.queueSpace
        let enqueuers = self.enqueuers
        self.poller = PollThread(name: "kafka-producer-poll", body: {
            guard enqueuers.waitUntilIdle(timeoutSeconds: 0.1) else {
                // Enqueuers have been busy for 100 ms (small batches never reach their inline
                // serving point): serve what is ready, without blocking, so no report starves.
                Self.serveReady(mainQueue, events: events, queueSpace: queueSpace)
                return
            }
            Self.serve(mainQueue, events: events, queueSpace: queueSpace, timeoutMs: 100)
        }, finish: {})
    }

    /// The librdkafka topic handle for `name` (created once, kept until shutdown).
    func topicHandle(_ name: String) -> OpaquePointer? {
        topics.withLockedValue { topics in
            if let existing = topics[name] { return existing.pointer }
            guard let created = rd_kafka_topic_new(handle, name, nil) else { return nil }
            topics[name] = SendableHandle(pointer: created)
            return created
        }
    }

    /// Enqueues one record to `topic` (from ``topicHandle(_:)``); the delivery report completes
    /// `opaque`'s slot later. The record is borrowed: nothing is retained or copied on the Swift
    /// side; librdkafka copies key and value (`RD_KAFKA_MSG_F_COPY`).
    /// - Returns: `RD_KAFKA_RESP_ERR_NO_ERROR`, or why the record was not enqueued.
    func enqueue(_ record: borrowing ProducerRecord, topic: OpaquePointer, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        withOptionalBytes(record.key) { key in
            withOptionalBytes(record.value) { value in
                if record.headers.isEmpty {
                    return enqueueWithoutHeaders(key: key, value: value, partition: record.partition, topic: topic, opaque: opaque)
                }
                return enqueueWithHeaders(key: key, value: value, headers: record.headers, partition: record.partition, topic: topic, opaque: opaque)
            }
        }
    }

    /// The common case: `rd_kafka_produce` takes key, value and partition directly (no
    /// variable-argument parsing).
    private func enqueueWithoutHeaders(
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, partition: Int32?,
        topic: OpaquePointer, opaque: UnsafeMutableRawPointer
    ) -> rd_kafka_resp_err_t {
        let status = rd_kafka_produce(
            topic, partition ?? -1 /* RD_KAFKA_PARTITION_UA */, RD_KAFKA_MSG_F_COPY,
            UnsafeMutableRawPointer(mutating: value?.baseAddress), value?.count ?? 0,
            key?.baseAddress, key?.count ?? 0, opaque
        )
        return status == 0 ? RD_KAFKA_RESP_ERR_NO_ERROR : rd_kafka_last_error()
    }

    /// Records with headers go through `rd_kafka_produceva`, which takes ownership of the header
    /// list on success.
    private func enqueueWithHeaders(
        key: UnsafeRawBufferPointer?, value: UnsafeRawBufferPointer?, headers: [KafkaHeader], partition: Int32?,
        topic: OpaquePointer, opaque: UnsafeMutableRawPointer
    ) -> rd_kafka_resp_err_t {
        let headers = headers.makeRdKafkaHeaders()
        let failure: OpaquePointer? = withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
            var count = 0
            func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                var element = rd_kafka_vu_t()
                element.vtype = type
                fill(&element)
                values.initializeElement(at: count, to: element)
                count += 1
            }
            add(RD_KAFKA_VTYPE_RKT) { $0.u.rkt = topic }
            add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
            add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
            if let value { add(RD_KAFKA_VTYPE_VALUE) { $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress); $0.u.mem.size = value.count } }
            if let key { add(RD_KAFKA_VTYPE_KEY) { $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress); $0.u.mem.size = key.count } }
            if let partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
            if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
            return rd_kafka_produceva(handle, values.baseAddress, count)
        }
        guard let failure else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        // On failure librdkafka did not take the headers.
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(failure)
        rd_kafka_error_destroy(failure)
        return code
    }

    /// Applies the events (delivery reports, errors) that are ready now, without waiting; at most
    /// 64, so an enqueuer never spins here while reports keep arriving.
    func serveReadyReports() {
        Self.serveReady(mainQueue, events: events, queueSpace: queueSpace)
    }

    private static func serveReady(_ queue: SendableHandle, events: ClientEvents, queueSpace: QueueSpaceSignal) {
        var served = 0
        while served < 64, serve(queue, events: events, queueSpace: queueSpace, timeoutMs: 0) { served += 1 }
    }

    /// Takes one event from the main queue (waiting up to `timeoutMs`) and applies it.
    /// - Returns: Whether there was one.
    @discardableResult
    private static func serve(_ queue: SendableHandle, events: ClientEvents, queueSpace: QueueSpaceSignal, timeoutMs: Int32) -> Bool {
        guard let event = rd_kafka_queue_poll(queue.pointer, timeoutMs) else { return false }
        switch rd_kafka_event_type(event) {
        case RD_KAFKA_EVENT_DR:
            completeDeliveries(in: event)
            // Destroying the event frees its messages, and only that makes room in librdkafka's
            // queue: signal after it, or a woken enqueuer could find the queue still full, wait,
            // and never be woken again.
            rd_kafka_event_destroy(event)
            queueSpace.signal()
        case RD_KAFKA_EVENT_ERROR:
            let reason = rd_kafka_event_error_string(event).map { String(cString: $0) } ?? ""
            events.report(rd_kafka_event_error(event), reason: reason, isFatal: rd_kafka_event_error_is_fatal(event) != 0)
            rd_kafka_event_destroy(event)
        default:
            rd_kafka_event_destroy(event)
        }
        return true
    }

    /// Waits (off the cooperative pool) until every queued message is delivered or `timeout` passes.
    func flush(timeout: Duration) async throws {
        let handle = SendableHandle(pointer: self.handle)
        let error = try await runBlockingUncancellable {
            rd_kafka_flush(handle.pointer, Int32(clamping: timeout.milliseconds))
        }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
    }

    /// Messages waiting for delivery.
    var queueLength: Int { Int(rd_kafka_outq_len(handle)) }

    /// Fails, without waiting, every message still queued or in flight (their senders get
    /// `_PURGE_*` errors, served as usual by the poll thread).
    func purgeNow() {
        rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT | RD_KAFKA_PURGE_F_NON_BLOCKING))
    }

    /// Fails whatever is still queued (their senders get `_PURGE_*` errors), stops polling, destroys the handle.
    ///
    /// Every blocking step runs off the cooperative pool: serving the purged reports may take up
    /// to 10 s, and a pool thread held that long stalls every task of the process (a relay's
    /// standby took over 10 s late in `RelayTests.failover` while its leader's producer closed).
    func shutdown() async {
        // Nobody may be inside `enqueue` while the handle goes away; one waiting for room gives up.
        queueSpace.close()
        while users.withLockedValue({ $0 }) > 0 { await sleepIgnoringCancellation(.milliseconds(2)) }
        let handle = SendableHandle(pointer: self.handle)
        try? await runBlockingUncancellable { rd_kafka_purge(handle.pointer, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT)) }
        await poller.stop()
        let topicHandles = topics.withLockedValue { topics in defer { topics = [:] }; return Array(topics.values) }
        let (mainQueue, events, queueSpace) = (self.mainQueue, self.events, self.queueSpace)
        try? await runBlockingUncancellable {
            // Serve the purged messages' delivery reports here until none is outstanding, so every
            // sender's batch completes (with a `_PURGE_*` error) instead of waiting forever.
            let deadline = ContinuousClock.now + .seconds(10)
            while rd_kafka_outq_len(handle.pointer) > 0, ContinuousClock.now < deadline {
                Self.serve(mainQueue, events: events, queueSpace: queueSpace, timeoutMs: 10)
            }
            topicHandles.forEach { rd_kafka_topic_destroy($0.pointer) }
            rd_kafka_queue_destroy(mainQueue.pointer)
            rd_kafka_destroy(handle.pointer)
        }
    }
}

private func withOptionalBytes<R>(_ bytes: borrowing [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    switch bytes {
    case .some(let bytes): bytes.withUnsafeBytes { body($0) }
    case .none: body(nil)
    }
}
