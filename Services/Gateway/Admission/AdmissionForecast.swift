import Synchronization

/// What the gateway last learned of each caller's token bucket, so that a read may start upstream
/// while its own Redis decision is still on the way (speculative admission, ADR 0011).
///
/// A caller may speculate while the tokens Redis last reported for its bucket, minus the
/// speculations of that bucket still in flight, leave at least one: each of those reads would be
/// admitted even if no token came back. A caller the gateway knows nothing of, or whose bucket
/// ran low, waits for its decision first, as before. The decision itself is unchanged and
/// exact: a speculative read that Redis refuses still gets its 429 (or its 401 for a revoked
/// token), and the upstream's answer is thrown away. What speculation risks is only that answer's
/// work, when something the forecast cannot see (another gateway, another event loop) spent the
/// same bucket meanwhile.
///
/// A pure value; ``SharedAdmissionForecast`` puts it behind a lock.
struct AdmissionForecast: Sendable, Equatable {
    /// One bucket's last known state.
    struct Entry: Sendable, Equatable {
        /// Tokens left after the last decision Redis returned.
        var remaining: Int
        /// Speculative reads of this bucket whose decision has not come back yet.
        var inFlight: Int
    }

    /// The most buckets remembered; a new bucket beyond that is not remembered (its callers
    /// wait for their decisions) until an entry with nothing in flight can make room.
    let capacity: Int
    private(set) var entries: [String: Entry] = [:]

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// Whether a read spending from `bucket` may go upstream before its decision; if so, it is
    /// counted in flight until ``settle(_:remaining:speculated:)``.
    mutating func speculate(on bucket: String) -> Bool {
        guard var entry = entries[bucket], entry.remaining - entry.inFlight >= 1 else { return false }
        entry.inFlight += 1
        entries[bucket] = entry
        return true
    }

    /// Records the decision Redis returned for a read of `bucket`: the tokens `remaining` after
    /// it, or nil when no decision came (Redis unreachable: then nothing is known). `speculated`
    /// says whether ``speculate(on:)`` let this read go first.
    mutating func settle(_ bucket: String, remaining: Int?, speculated: Bool) {
        var entry = entries[bucket]
        if speculated, let known = entry { entry?.inFlight = max(0, known.inFlight - 1) }
        switch (entry, remaining) {
        case (nil, nil):
            return
        case (let known?, nil):
            // No decision: nothing is known of the tokens until the next one.
            entries[bucket] = known.inFlight > 0 ? Entry(remaining: 0, inFlight: known.inFlight) : nil
        case (let known?, let remaining?):
            entries[bucket] = Entry(remaining: remaining, inFlight: known.inFlight)
        case (nil, let remaining?):
            if makeRoom() { entries[bucket] = Entry(remaining: remaining, inFlight: 0) }
        }
    }

    /// Whether one more entry fits, after dropping those with nothing in flight when full.
    private mutating func makeRoom() -> Bool {
        guard capacity > 0 else { return false }
        if entries.count >= capacity { entries = entries.filter { $0.value.inFlight > 0 } }
        return entries.count < capacity
    }
}

/// An ``AdmissionForecast`` shared by the gateway's event loops.
final class SharedAdmissionForecast: Sendable {
    private let forecast: Mutex<AdmissionForecast>

    init(capacity: Int) {
        forecast = Mutex(AdmissionForecast(capacity: capacity))
    }

    /// See ``AdmissionForecast/speculate(on:)``.
    func speculate(on bucket: String) -> Bool {
        forecast.withLock { $0.speculate(on: bucket) }
    }

    /// See ``AdmissionForecast/settle(_:remaining:speculated:)``.
    func settle(_ bucket: String, remaining: Int?, speculated: Bool) {
        forecast.withLock { $0.settle(bucket, remaining: remaining, speculated: speculated) }
    }
}
