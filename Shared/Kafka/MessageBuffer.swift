import DequeModule
import NIOConcurrencyHelpers

/// The hand-off between the consumer's poll thread (one producer) and its async iterator
/// (one reader). Each message carries the assignment generation it was fetched under, so that
/// messages of a partition that was revoked meanwhile can be dropped instead of delivered.
final class MessageBuffer: Sendable {
    struct Entry: Sendable {
        var message: KafkaMessage
        var generation: Int
    }

    private struct State {
        var entries: Deque<Entry> = []
        var waiter: CheckedContinuation<Entry?, Never>?
        var finished = false
    }

    private let state = NIOLockedValueBox(State())

    func push(_ entry: Entry) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Entry?, Never>? in
            guard !state.finished else { return nil }
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.entries.append(entry)
            return nil
        }
        waiter?.resume(returning: entry)
    }

    /// Ends the stream: the reader gets the remaining entries (or none, when discarding), then nil.
    func finish(discardingPending: Bool = false) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<Entry?, Never>? in
            state.finished = true
            if discardingPending { state.entries.removeAll() }
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: nil)
    }

    /// The next entry, waiting for one; nil once finished (or when the waiting task is cancelled).
    func next() async -> Entry? {
        await withTaskCancellationHandler {
            await withCheckedContinuation { continuation in
                let ready = state.withLockedValue { state -> Entry?? in
                    if let first = state.entries.popFirst() { return .some(first) }
                    if state.finished || Task.isCancelled { return .some(nil) }
                    state.waiter = continuation
                    return .none
                }
                if let ready { continuation.resume(returning: ready) }
            }
        } onCancel: {
            let waiter = state.withLockedValue { state -> CheckedContinuation<Entry?, Never>? in
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume(returning: nil)
        }
    }
}
