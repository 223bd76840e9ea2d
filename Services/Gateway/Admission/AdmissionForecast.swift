import Synchronization

/// What the gateway last learned of each caller's read bucket, so that a read may go upstream
/// while its own Redis decision is still on the way (speculative reads, ADR 0011).
///
/// Each read that spends from a remembered bucket is *registered* until its decision comes back
/// and *settles* it. A read may go first when the tokens Redis last reported for its bucket,
/// minus the reads of that bucket whose decisions are still pending, leave at least one: all of
/// them would be admitted even if no token came back. A bucket not yet decided, or reported empty,
/// or whose last decision failed (Redis unreachable), makes its reads wait for their decisions,
/// as before speculation. The decision itself is unchanged and exact: a read that went first and
/// is refused still gets its 429 (or its 401 for a revoked token), and the upstream's answer is
/// thrown away. What speculation risks is only that answer's work, when the forecast is wrong
/// (ADR 0011 says when).
///
/// A pure value; ``SharedAdmissionForecast`` puts it behind a lock.
struct AdmissionForecast: Sendable, Equatable {
    /// One bucket's last known state.
    struct Entry: Sendable, Equatable {
        /// Tokens left after the last decision recorded (0 until one is).
        var remaining: Int
        /// Registered reads of this bucket whose decisions have not come back yet.
        var pending: Int
    }

    /// How a registered read goes.
    enum Turn: Sendable, Equatable {
        /// Its bucket surely has a token for it: it may go upstream before its decision.
        case mayGoFirst
        /// It waits for its decision (bucket unknown, or its known tokens are spoken for).
        case waits
        /// The forecast is full and did not register it: it waits, and its decision settles nothing.
        case untracked
    }

    /// The most buckets remembered; when full, buckets with nothing pending are forgotten, and
    /// a read of a new bucket that still finds no room is ``Turn/untracked``.
    let capacity: Int
    /// The buckets remembered, by key.
    private(set) var entries: [String: Entry] = [:]

    /// An empty forecast that remembers at most `capacity` buckets (0: none, so every read waits).
    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Registers a read spending from `bucket`, pending until ``settle(_:remaining:turn:)``.
    mutating func register(_ bucket: String) -> Turn {
        if var entry = entries[bucket] {
            let spare = entry.remaining - entry.pending
            entry.pending += 1
            entries[bucket] = entry
            return spare >= 1 ? .mayGoFirst : .waits
        }
        guard makeRoom() else { return .untracked }
        entries[bucket] = Entry(remaining: 0, pending: 1)
        return .waits
    }

    /// Records the decision that came back for a read registered with `turn`: the tokens
    /// `remaining` after it, or nil when no decision came (Redis unreachable: then none is known).
    mutating func settle(_ bucket: String, remaining: Int?, turn: Turn) {
        guard turn != .untracked, var entry = entries[bucket] else { return }
        entry.pending = max(0, entry.pending - 1)
        entry.remaining = remaining ?? 0
        entries[bucket] = entry
    }

    /// Whether one more entry fits, after forgetting those with nothing pending when full.
    private mutating func makeRoom() -> Bool {
        guard capacity > 0 else { return false }
        if entries.count >= capacity { entries = entries.filter { $0.value.pending > 0 } }
        return entries.count < capacity
    }
}

/// An ``AdmissionForecast`` shared by the gateway's event loops.
final class SharedAdmissionForecast: Sendable {
    private let forecast: Mutex<AdmissionForecast>

    /// A forecast remembering at most `capacity` buckets.
    init(capacity: Int) {
        forecast = Mutex(AdmissionForecast(capacity: capacity))
    }

    /// See ``AdmissionForecast/register(_:)``.
    func register(_ bucket: String) -> AdmissionForecast.Turn {
        forecast.withLock { $0.register(bucket) }
    }

    /// See ``AdmissionForecast/settle(_:remaining:turn:)``.
    func settle(_ bucket: String, remaining: Int?, turn: AdmissionForecast.Turn) {
        forecast.withLock { $0.settle(bucket, remaining: remaining, turn: turn) }
    }
}
