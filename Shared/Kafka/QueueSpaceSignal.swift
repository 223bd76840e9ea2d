import NIOConcurrencyHelpers

/// Wakes an enqueuer that found librdkafka's local queue full as soon as delivery reports have
/// freed room — the event-driven counterpart of `rd_kafka_poll(rk, 10)` in librdkafka's own
/// tools, without blocking Swift's cooperative pool.
///
/// Race-free by generation: ``signal()`` is called after a delivery-report event was destroyed
/// (which is what frees its messages' room), and the enqueuer reads ``generation`` before its
/// last attempt and waits only if no room was freed since then.
///
/// Closed when the handle shuts down: a waiter is woken, and nobody waits any more, since with
/// the broker away (and `message.timeout.ms=0`) no report might ever free room, and the
/// shutdown waits for every enqueuer to leave.
final class QueueSpaceSignal: Sendable {
    private struct State {
        var generation: UInt64 = 0
        var closed = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Increases every time delivery reports are applied.
    var generation: UInt64 { state.withLockedValue { $0.generation } }

    /// Whether ``close()`` was called: an enqueuer that finds the queue full gives up instead of waiting.
    var isClosed: Bool { state.withLockedValue { $0.closed } }

    /// Enqueuers waiting for room now.
    var waiting: Int { state.withLockedValue { $0.waiters.count } }

    /// Records that delivery reports were applied and their messages freed; wakes every waiter.
    func signal() {
        wake { _ in }
    }

    /// Wakes every waiter for good: from now on ``isClosed`` is true and ``wait(after:)`` returns at once.
    func close() {
        wake { $0.closed = true }
    }

    private func wake(_ change: (inout State) -> Void) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
            change(&state)
            state.generation &+= 1
            defer { state.waiters = [] }
            return state.waiters
        }
        waiters.forEach { $0.resume() }
    }

    /// Returns once reports were applied after `generation` was read (at once if they already
    /// were), once the signal is closed, or once the calling task is cancelled (which wakes the
    /// other waiters too; they find the queue still full and wait again).
    func wait(after generation: UInt64) async {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let alreadyAdvanced = state.withLockedValue { state -> Bool in
                    guard state.generation == generation, !state.closed else { return true }
                    state.waiters.append(continuation)
                    return false
                }
                if alreadyAdvanced { continuation.resume() }
            }
        } onCancel: {
            // Bumps the generation: a wait registering after this returns at once.
            wake { _ in }
        }
    }
}
