import CRdKafka
import NIOConcurrencyHelpers

/// Collects the delivery reports of one `send` call and resumes its caller when all arrived.
final class DeliveryBatch: Sendable {
    private struct State {
        var results: [Result<DeliveryReport, KafkaError>?]
        var remaining: Int
        var continuation: CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>?
    }

    private let state: NIOLockedValueBox<State>

    init(count: Int) {
        state = NIOLockedValueBox(State(results: Array(repeating: nil, count: count), remaining: count))
    }

    /// Waits for every result (resumes at once when all are in).
    func wait() async -> [Result<DeliveryReport, KafkaError>] {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state -> [Result<DeliveryReport, KafkaError>]? in
                if state.remaining == 0 { return state.results.compactMap { $0 } }
                state.continuation = continuation
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Records the outcome of message `index`.
    func complete(_ index: Int, _ result: Result<DeliveryReport, KafkaError>) {
        let resume = state.withLockedValue { state -> (CheckedContinuation<[Result<DeliveryReport, KafkaError>], Never>, [Result<DeliveryReport, KafkaError>])? in
            guard state.results[index] == nil else { return nil }
            state.results[index] = result
            state.remaining -= 1
            guard state.remaining == 0, let continuation = state.continuation else { return nil }
            state.continuation = nil
            return (continuation, state.results.compactMap { $0 })
        }
        if let (continuation, results) = resume { continuation.resume(returning: results) }
    }
}

/// The per-message opaque handed to librdkafka: which batch, which position.
final class DeliverySlot {
    let batch: DeliveryBatch
    let index: Int

    init(batch: DeliveryBatch, index: Int) {
        self.batch = batch
        self.index = index
    }
}

/// librdkafka's delivery-report callback (runs on the producer's poll thread).
let deliveryReportCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let slot = Unmanaged<DeliverySlot>.fromOpaque(opaque).takeRetainedValue()
    let m = message.pointee
    if m.err == RD_KAFKA_RESP_ERR_NO_ERROR {
        let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
        slot.batch.complete(slot.index, .success(DeliveryReport(topic: topic, partition: m.partition, offset: m.offset)))
    } else {
        slot.batch.complete(slot.index, .failure(KafkaError(m.err)))
    }
}
