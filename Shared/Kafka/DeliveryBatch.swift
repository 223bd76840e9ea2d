import CRdKafka
import NIOConcurrencyHelpers

/// Collects the delivery reports of one `send` call and resumes its caller when all arrived.
///
/// Hot path: one allocation per batch, not per message. Each message's librdkafka opaque points
/// at its ``DeliverySlot`` in ``slots``; the batch keeps itself alive (one retain) until every
/// message is settled.
final class DeliveryBatch: Sendable {
    /// The raw outcome of one message: partition/offset, or librdkafka's error code.
    struct Outcome: Sendable {
        var partition: Int32 = -1
        var offset: Int64 = -1
        var error: rd_kafka_resp_err_t = RD_KAFKA_RESP_ERR_NO_ERROR
    }

    private struct State {
        var outcomes: [Outcome]
        var remaining: Int
        var continuation: CheckedContinuation<[Outcome], Never>?
    }

    private let state: NIOLockedValueBox<State>
    /// `nonisolated(unsafe)`: written once in `init`, read-only afterwards (by librdkafka through opaques).
    nonisolated(unsafe) let slots: UnsafeMutablePointer<DeliverySlot>
    private let count: Int

    /// Creates a batch for `count` messages; it stays alive until all of them are completed.
    init(count: Int) {
        self.count = count
        self.state = NIOLockedValueBox(State(outcomes: Array(repeating: Outcome(), count: count), remaining: count))
        self.slots = .allocate(capacity: count)
        let unmanaged = Unmanaged.passUnretained(self)
        for index in 0..<count { (slots + index).initialize(to: DeliverySlot(batch: unmanaged, index: index)) }
        _ = Unmanaged.passRetained(self) // released by the last `complete`
    }

    deinit {
        slots.deinitialize(count: count)
        slots.deallocate()
    }

    /// The opaque to hand librdkafka for message `index`.
    func opaque(for index: Int) -> UnsafeMutableRawPointer {
        UnsafeMutableRawPointer(slots + index)
    }

    /// Waits for every outcome (resumes at once when all are in).
    func wait() async -> [Outcome] {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state -> [Outcome]? in
                if state.remaining == 0 { return state.outcomes }
                state.continuation = continuation
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Records the outcome of message `index`.
    func complete(_ index: Int, _ outcome: Outcome) {
        let finished = state.withLockedValue { state -> (CheckedContinuation<[Outcome], Never>?, [Outcome])? in
            state.outcomes[index] = outcome
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            defer { state.continuation = nil }
            return (state.continuation, state.outcomes)
        }
        guard let (continuation, outcomes) = finished else { return }
        continuation?.resume(returning: outcomes)
        Unmanaged.passUnretained(self).release()
    }
}

/// What librdkafka's opaque points at: the batch and the message's position in it.
struct DeliverySlot {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

/// librdkafka's delivery-report callback (runs on the producer's poll thread).
let deliveryReportCallback: @convention(c) (OpaquePointer?, UnsafePointer<rd_kafka_message_t>?, UnsafeMutableRawPointer?) -> Void = { _, message, _ in
    guard let message, let opaque = message.pointee._private else { return }
    let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
    let m = message.pointee
    slot.batch.takeUnretainedValue().complete(slot.index, .init(partition: m.partition, offset: m.offset, error: m.err))
}
