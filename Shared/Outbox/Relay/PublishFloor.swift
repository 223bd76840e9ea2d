/// One reading of what Postgres knows about outbox ids that may still appear, taken by the
/// relay before each fetch (one statement, so one snapshot).
struct OutboxHorizon: Sendable, Equatable {
    /// `pg_snapshot_xmin`: every transaction with a lower id has ended.
    var oldestRunningTransaction: Int64
    /// `pg_snapshot_xmax`: the first transaction id not yet assigned when the snapshot was taken.
    var nextTransaction: Int64
    /// The last id the outbox sequence handed out (0 when none), read after the snapshot.
    var lastAllocatedID: Int64
}

/// The id at or below which the relay no longer looks, so a fetch starts there instead of
/// walking the whole published prefix of the outbox (whose dead index entries made each fetch
/// cost milliseconds under load). A pure value: the pipeline feeds it readings and fetch results.
///
/// Outbox ids are drawn in one order but committed in another: a transaction may hold id 100
/// while id 101 commits and is published. So the floor may pass an id only once that id is
/// *settled* — committed or gone for good — and published. An id is settled when every
/// transaction that could have drawn it has ended:
/// 1. a reading `lastAllocatedID = N` says ids ≤ N were drawn; each by a transaction that
///    already had a transaction id (the `outbox_next_id()` default, migration 1001);
/// 2. the *next* reading's snapshot, taken after N was read, has `nextTransaction = W`, so all
///    those transactions have ids below W (the reading is then "witnessed");
/// 3. once a later snapshot's `oldestRunningTransaction` is ≥ W, they have all ended: ids ≤ N
///    are settled.
///
/// The floor is then the highest id such that every id up to it is settled, not in flight, and
/// not seen unpublished by the fetch. A long-running transaction holds it back (fetches then
/// cost what they did before); it never lets it pass a row that may still become visible.
struct PublishFloor: Sendable {
    /// Rows with ids at or below this are published or will never exist.
    private(set) var floor: Int64 = 0
    /// Every id at or below this is committed or gone for good.
    private(set) var settled: Int64 = 0
    /// Readings of `lastAllocatedID`, oldest first, with the `nextTransaction` of the snapshot
    /// that witnessed them (nil until the next reading).
    private var readings: [(id: Int64, witness: Int64?)] = []

    /// Readings kept at most; while a long transaction holds everything back, newer readings
    /// are dropped, which only delays the floor.
    static let maximumReadings = 1_024

    init() {}

    /// Takes one reading: witnesses the earlier ones, settles those whose transactions have all
    /// ended, and keeps this one for the next reading to witness.
    mutating func observe(_ horizon: OutboxHorizon) {
        for index in readings.indices where readings[index].witness == nil {
            readings[index].witness = horizon.nextTransaction
        }
        while let first = readings.first, let witness = first.witness, witness <= horizon.oldestRunningTransaction {
            settled = max(settled, first.id)
            readings.removeFirst()
        }
        // An older reading of the same id settles first; a full list only delays the floor.
        guard horizon.lastAllocatedID > max(settled, readings.last?.id ?? 0), readings.count < Self.maximumReadings else { return }
        readings.append((horizon.lastAllocatedID, nil))
    }

    /// Raises the floor after a fetch that started above it.
    /// - Parameters:
    ///   - lowestUnpublished: the lowest id the fetch returned (it reads unpublished rows above
    ///     the floor, in id order, skipping those in flight), nil when it returned none.
    ///   - lowestInFlight: the lowest id of the rows in flight that the fetch skipped.
    mutating func advance(lowestUnpublished: Int64?, lowestInFlight: Int64?) {
        var bound = settled
        if let lowestUnpublished { bound = min(bound, lowestUnpublished - 1) }
        if let lowestInFlight { bound = min(bound, lowestInFlight - 1) }
        floor = max(floor, bound)
    }

    /// Readings waiting to settle (for tests and the debugger).
    var pendingReadings: Int { readings.count }
}
