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
        var waiters: [CheckedContinuation<[Outcome], Never>] = []
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
        if count > 0 { _ = Unmanaged.passRetained(self) } // released by the last `complete`
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
                state.waiters.append(continuation)
                return nil
            }
            if let done { continuation.resume(returning: done) }
        }
    }

    /// Records the outcome of message `index`.
    func complete(_ index: Int, _ outcome: Outcome) {
        complete(CollectionOfOne((index, outcome)))
    }

    /// Records several outcomes under one lock (a delivery-report event covers many messages).
    func complete(_ items: some Collection<(Int, Outcome)>) {
        let finished = state.withLockedValue { state -> ([CheckedContinuation<[Outcome], Never>], [Outcome])? in
            for (index, outcome) in items { state.outcomes[index] = outcome }
            state.remaining -= items.count
            guard state.remaining == 0 else { return nil }
            defer { state.waiters = [] }
            return (state.waiters, state.outcomes)
        }
        guard let (waiters, outcomes) = finished else { return }
        waiters.forEach { $0.resume(returning: outcomes) }
        Unmanaged.passUnretained(self).release()
    }
}

/// What librdkafka's opaque points at: the batch and the message's position in it.
struct DeliverySlot {
    let batch: Unmanaged<DeliveryBatch>
    let index: Int
}

/// Applies one delivery-report event: consecutive messages of the same batch are completed
/// together, under one lock.
func completeDeliveries(in event: OpaquePointer) {
    var messages = [UnsafePointer<rd_kafka_message_t>?](repeating: nil, count: 1024)
    while true {
        let count = rd_kafka_event_message_array(event, &messages, messages.count)
        guard count > 0 else { return }
        var run: [(Int, DeliveryBatch.Outcome)] = []
        var runBatch: Unmanaged<DeliveryBatch>?
        for case let message? in messages.prefix(count) {
            guard let opaque = message.pointee._private else { continue }
            let slot = opaque.assumingMemoryBound(to: DeliverySlot.self).pointee
            if let current = runBatch, current.toOpaque() != slot.batch.toOpaque() {
                current.takeUnretainedValue().complete(run)
                run.removeAll(keepingCapacity: true)
            }
            runBatch = slot.batch
            let m = message.pointee
            run.append((slot.index, .init(partition: m.partition, offset: m.offset, error: m.err)))
        }
        if let current = runBatch, !run.isEmpty { current.takeUnretainedValue().complete(run) }
        if count < messages.count { return }
    }
}
