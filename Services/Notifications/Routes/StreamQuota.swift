import Foundation
import Metrics
import Synchronization

/// How many live streams one user may hold open on this instance
/// (`NOTIFICATIONS_STREAMS_PER_USER`). Each stream holds a Redis subscription connection and a
/// task until it ends, so a client reconnecting in a loop without closing must not pile them
/// up. One more stream than that ends the user's oldest (its client reconnects with
/// `Last-Event-ID`) instead of being refused: a browser's `EventSource` gives up for good after an
/// error status, and the places of connections that died without a close (a network blip) are
/// only noticed at their next failed write. Publishes `notifications_streams_open` (a gauge) and
/// counts `notifications_streams_evicted_total`.
final class StreamQuota: Sendable {
    /// The most streams one user may have open at once.
    let perUser: Int
    private let open = Mutex(OpenStreams())
    private let openGauge = Gauge(label: "notifications_streams_open")
    private let evicted = Counter(label: "notifications_streams_evicted_total")

    private struct OpenStreams {
        /// Each user's streams, oldest first.
        var byUser: [UUID: [Entry]] = [:]
        var total = 0
    }

    private struct Entry {
        let id: ObjectIdentifier
        weak var slot: Slot?
    }

    init(perUser: Int) {
        self.perUser = max(perUser, 1)
        openGauge.record(0)
    }

    /// A place for a new stream of `userID`; when the user has ``perUser`` open, their oldest is
    /// ended to make room.
    func take(for userID: UUID) -> Slot {
        let slot = Slot(quota: self, userID: userID)
        let oldest = open.withLock { streams -> Slot? in
            var entries = streams.byUser[userID, default: []]
            var oldest: Slot?
            if entries.count >= perUser {
                oldest = entries.removeFirst().slot
                streams.total -= 1
            }
            entries.append(Entry(id: ObjectIdentifier(slot), slot: slot))
            streams.byUser[userID] = entries
            streams.total += 1
            // Recorded under the lock, so concurrent changes cannot record out of order.
            openGauge.record(streams.total)
            return oldest
        }
        if let oldest {
            evicted.increment()
            oldest.evict()
        }
        return slot
    }

    fileprivate func giveBack(_ id: ObjectIdentifier, of userID: UUID) {
        open.withLock { streams in
            guard var entries = streams.byUser[userID], let index = entries.firstIndex(where: { $0.id == id }) else { return }
            entries.remove(at: index)
            streams.byUser[userID] = entries.isEmpty ? nil : entries
            streams.total -= 1
            openGauge.record(streams.total)
        }
    }

    /// One open stream's place: given back once, by ``release()`` or when the last reference
    /// to it goes away, whichever comes first. An evicted place was taken back already; its
    /// stream is ended through the handler given to ``whenEvicted(_:)``.
    final class Slot: Sendable {
        private let quota: StreamQuota
        private let userID: UUID
        private let released = Atomic(false)
        private let eviction = Mutex<(evicted: Bool, end: (@Sendable () -> Void)?)>((false, nil))

        fileprivate init(quota: StreamQuota, userID: UUID) {
            self.quota = quota
            self.userID = userID
        }

        /// Gives the place back (once; later calls do nothing).
        func release() {
            guard !released.exchange(true, ordering: .acquiringAndReleasing) else { return }
            quota.giveBack(ObjectIdentifier(self), of: userID)
        }

        /// How to end the stream when a newer one of the same user takes its place (at once, if
        /// that happened already).
        func whenEvicted(_ end: @escaping @Sendable () -> Void) {
            let already = eviction.withLock { state -> Bool in
                if !state.evicted { state.end = end }
                return state.evicted
            }
            if already { end() }
        }

        fileprivate func evict() {
            let end = eviction.withLock { state -> (@Sendable () -> Void)? in
                state.evicted = true
                defer { state.end = nil }
                return state.end
            }
            end?()
        }

        deinit { release() }
    }
}
