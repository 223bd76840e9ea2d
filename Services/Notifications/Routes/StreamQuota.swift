import Foundation
import Metrics
import Synchronization

/// How many live streams one user may hold open on this instance
/// (`NOTIFICATIONS_STREAMS_PER_USER`). Each stream holds a Redis subscription connection and a
/// task until it ends, so one client reconnecting in a loop without closing must not be able to
/// exhaust them. Publishes `notifications_streams_open` (a gauge) and counts refusals in
/// `notifications_streams_refused_total`.
final class StreamQuota: Sendable {
    /// The most streams one user may have open at once.
    let perUser: Int
    private let open = Mutex(OpenStreams())
    private let openGauge = Gauge(label: "notifications_streams_open")
    private let refused = Counter(label: "notifications_streams_refused_total")

    private struct OpenStreams {
        var byUser: [UUID: Int] = [:]
        var total = 0
    }

    init(perUser: Int) {
        self.perUser = perUser
        openGauge.record(0)
    }

    /// A place for one more stream of `userID`, or nil when the user has ``perUser`` open.
    func take(for userID: UUID) -> Slot? {
        // The gauge is recorded under the lock, so concurrent changes cannot record out of order.
        let taken = open.withLock { streams -> Bool in
            let current = streams.byUser[userID, default: 0]
            guard current < perUser else { return false }
            streams.byUser[userID] = current + 1
            streams.total += 1
            openGauge.record(streams.total)
            return true
        }
        guard taken else {
            refused.increment()
            return nil
        }
        return Slot(quota: self, userID: userID)
    }

    fileprivate func giveBack(_ userID: UUID) {
        open.withLock { streams in
            let remaining = streams.byUser[userID, default: 1] - 1
            streams.byUser[userID] = remaining > 0 ? remaining : nil
            streams.total = max(0, streams.total - 1)
            openGauge.record(streams.total)
        }
    }

    /// One open stream's place: given back once, by ``release()`` or when the last reference
    /// to it goes away, whichever comes first.
    final class Slot: Sendable {
        private let quota: StreamQuota
        private let userID: UUID
        private let released = Atomic(false)

        fileprivate init(quota: StreamQuota, userID: UUID) {
            self.quota = quota
            self.userID = userID
        }

        /// Gives the place back (once; later calls do nothing).
        func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            quota.giveBack(userID)
        }

        deinit { release() }
    }
}
