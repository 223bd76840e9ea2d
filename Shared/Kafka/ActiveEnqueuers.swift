import Foundation

/// Counts tasks inside ``KafkaProducer/enqueue(_:ordering:)``'s synchronous loop, so the producer's poll
/// thread can stand aside while one is.
///
/// Why: librdkafka allocates each message on the enqueuing thread and frees it where its delivery
/// report is served, and both touch the topic's reference count. Served on the poll thread, every
/// message's memory and counters bounce between two cores; served by the enqueuing task (every
/// 256 messages, never blocking), they stay on one — which is how librdkafka's own tools work.
/// While nobody enqueues, and while an enqueuer waits for room, the poll thread serves as usual.
///
/// `@unchecked Sendable`: `active` is only read and written with `condition` locked.
final class ActiveEnqueuers: @unchecked Sendable {
    private let condition = NSCondition()
    private var active = 0

    /// Marks the caller as enqueuing; balance with ``leave()``. Holds the lock for an increment only.
    func enter() {
        condition.lock()
        active += 1
        condition.unlock()
    }

    /// Marks the caller as done enqueuing (or about to wait); wakes the poll thread if it was the last.
    func leave() {
        condition.lock()
        active -= 1
        if active == 0 { condition.broadcast() }
        condition.unlock()
    }

    /// Blocks the calling thread (the poll thread, never the cooperative pool) until no enqueuer
    /// is active, at most `timeoutSeconds`. Returns whether none is.
    func waitUntilIdle(timeoutSeconds: Double) -> Bool {
        condition.lock()
        defer { condition.unlock() }
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        while active > 0 {
            if !condition.wait(until: deadline) { return active == 0 }
        }
        return true
    }
}
