import Foundation
import NIOConcurrencyHelpers

/// A dedicated OS thread that runs librdkafka's blocking poll loop.
///
/// librdkafka delivers callbacks (delivery reports, rebalances, errors) only from the thread that
/// polls, and its poll calls block; running them here keeps Swift's cooperative pool free. The
/// thread repeats `body` until ``stop()`` is called, then runs `finish` once and exits.
final class PollThread: Sendable {
    private struct State {
        var stopRequested = false
        var finished = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state = NIOLockedValueBox(State())

    /// Starts the thread.
    /// - Parameters:
    ///   - name: Thread name (shows in debuggers and `top -H`).
    ///   - body: One poll iteration; should block for at most ~100 ms.
    ///   - finish: Runs once on the thread after the last iteration (close, destroy).
    init(name: String, body: @escaping @Sendable () -> Void, finish: @escaping @Sendable () -> Void) {
        let thread = Thread { [state] in
            while !state.withLockedValue({ $0.stopRequested }) {
                body()
            }
            finish()
            let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                state.finished = true
                defer { state.waiters = [] }
                return state.waiters
            }
            waiters.forEach { $0.resume() }
        }
        thread.name = name
        thread.start()
    }

    /// Whether ``stop()`` was requested.
    var isStopping: Bool { state.withLockedValue { $0.stopRequested } }

    /// Asks the loop to end and waits until `finish` has run.
    func stop() async {
        await withCheckedContinuation { continuation in
            let alreadyFinished = state.withLockedValue { state -> Bool in
                state.stopRequested = true
                if state.finished { return true }
                state.waiters.append(continuation)
                return false
            }
            if alreadyFinished { continuation.resume() }
        }
    }
}
