import CRdKafka
import Logging
import NIOPosix

/// One librdkafka producer handle with its poll thread.
///
/// `@unchecked Sendable`: `handle` is an immutable pointer to a librdkafka client, whose API is
/// thread-safe; everything else is immutable or itself Sendable.
final class ProducerHandle: @unchecked Sendable {
    let handle: OpaquePointer
    let events: ClientEvents
    private let poller: PollThread

    init(configuration: KafkaConfiguration, logger: Logger) throws(KafkaError) {
        let events = ClientEvents(logger: logger)
        let handle = try configuration.makeHandle(RD_KAFKA_PRODUCER, events: events) { conf in
            rd_kafka_conf_set_dr_msg_cb(conf, deliveryReportCallback)
        }
        self.handle = handle
        self.events = events
        let sendable = SendableHandle(pointer: handle)
        self.poller = PollThread(name: "kafka-producer-poll", body: { _ = rd_kafka_poll(sendable.pointer, 100) }, finish: {})
    }

    /// Enqueues one record; the delivery report completes `opaque`'s slot later.
    /// - Returns: `RD_KAFKA_RESP_ERR_NO_ERROR`, or why the record was not enqueued.
    func enqueue(_ record: ProducerRecord, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
        let headers = record.headers.makeRdKafkaHeaders()
        let failure: OpaquePointer? = record.topic.withCString { topic in
            withOptionalBytes(record.key) { key in
                withOptionalBytes(record.value) { value in
                    withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
                        var count = 0
                        func add(_ type: rd_kafka_vtype_t, _ fill: (inout rd_kafka_vu_t) -> Void) {
                            var element = rd_kafka_vu_t()
                            element.vtype = type
                            fill(&element)
                            values.initializeElement(at: count, to: element)
                            count += 1
                        }
                        add(RD_KAFKA_VTYPE_TOPIC) { $0.u.cstr = topic }
                        add(RD_KAFKA_VTYPE_MSGFLAGS) { $0.u.i = RD_KAFKA_MSG_F_COPY }
                        add(RD_KAFKA_VTYPE_OPAQUE) { $0.u.ptr = opaque }
                        if let value { add(RD_KAFKA_VTYPE_VALUE) { $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress); $0.u.mem.size = value.count } }
                        if let key { add(RD_KAFKA_VTYPE_KEY) { $0.u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress); $0.u.mem.size = key.count } }
                        if let partition = record.partition { add(RD_KAFKA_VTYPE_PARTITION) { $0.u.i32 = partition } }
                        if let headers { add(RD_KAFKA_VTYPE_HEADERS) { $0.u.headers = headers } }
                        return rd_kafka_produceva(handle, values.baseAddress, count)
                    }
                }
            }
        }
        guard let failure else { return RD_KAFKA_RESP_ERR_NO_ERROR }
        // On failure librdkafka did not take the headers.
        if let headers { rd_kafka_headers_destroy(headers) }
        let code = rd_kafka_error_code(failure)
        rd_kafka_error_destroy(failure)
        return code
    }

    /// Waits (off the cooperative pool) until every queued message is delivered or `timeout` passes.
    func flush(timeout: Duration) async throws {
        let handle = SendableHandle(pointer: self.handle)
        let error = try await NIOThreadPool.singleton.runIfActive {
            rd_kafka_flush(handle.pointer, Int32(clamping: timeout.milliseconds))
        }
        guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
    }

    /// Messages waiting for delivery.
    var queueLength: Int { Int(rd_kafka_outq_len(handle)) }

    /// Fails whatever is still queued (their senders get `_PURGE_*` errors), stops polling, destroys the handle.
    func shutdown() async {
        rd_kafka_purge(handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
        // Let the poll thread serve the purged messages' delivery reports.
        for _ in 0..<50 where rd_kafka_outq_len(handle) > 0 {
            try? await Task.sleep(for: .milliseconds(20))
        }
        await poller.stop()
        let handle = SendableHandle(pointer: self.handle)
        try? await NIOThreadPool.singleton.runIfActive { rd_kafka_destroy(handle.pointer) }
    }
}

private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
    guard let bytes else { return body(nil) }
    return bytes.withUnsafeBytes { body($0) }
}
