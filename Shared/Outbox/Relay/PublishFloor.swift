/// One reading of the outbox, from one statement's snapshot: a fetch that found rows, or a
/// statement of its own just before a fetch (see `PublishPipeline`).
struct OutboxHorizon: Sendable {
    /// `pg_snapshot_xmin`: every transaction with a lower id had ended when the snapshot was
    /// taken. (Only a *lower* bound: transactions at or above the snapshot's `xmax`, which is
    /// one past the latest completed one, may still run unseen.)
    var oldestRunningTransaction: Int64
    /// The last id the outbox sequence handed out (0 when none), read after the snapshot.
    var lastAllocatedID: Int64
}

/// The id at or below which the relay no longer looks, so a fetch starts there instead of
/// walking the whole published prefix of the outbox (whose dead index entries made each fetch
/// cost milliseconds under load). A pure value: the pipeline feeds it readings, witnesses and
/// fetch results. See ADR 0010.
///
/// Outbox ids are drawn in one order but committed in another: a transaction may hold id 100
/// while id 101 commits and is published. So the floor may pass an id only once that id is
/// *settled* — committed or gone for good — and published. An id is settled when every
/// transaction that could have drawn it has ended:
/// 1. a reading `lastAllocatedID = N` says ids ≤ N were drawn; each by a transaction that
///    already had a transaction id (the `outbox_next_id()` default, migration 1001), so before N
///    was read;
/// 2. a transaction id Y *assigned* after the reading — the marker's `UPDATE`, which reports
///    `pg_current_xact_id()` — is therefore greater than all of theirs (the reading is then
///    "witnessed" by Y);
/// 3. once a later snapshot's `oldestRunningTransaction` is above Y, every transaction with an
///    id up to Y has ended (Y's own has: it committed before that snapshot), so ids ≤ N are
///    settled.
///
/// The floor is then the highest id such that every id up to it is settled, not in flight, and
/// not seen unpublished by the fetch. Without marks (nothing published) nothing settles, which
/// costs nothing: there is no published prefix to skip. A long-running transaction holds the
/// floor back (fetches then cost what they did before); it never lets it pass a row that may
/// still become visible.
struct PublishFloor: Sendable {
    /// Rows with ids at or below this are published or will never exist.
    private(set) var floor: Int64 = 0
    /// Every id at or below this is committed or gone for good.
    private(set) var settled: Int64 = 0
    /// Readings kept (numbered in the order taken), oldest first, with their witness.
    private var readings: [(number: Int, id: Int64, witness: Int64?)] = []
    private var nextNumber = 1

    /// Readings kept at most; while a long transaction holds everything back, newer readings
    /// are dropped, which only delays the floor.
    static let maximumReadings = 1_024

    init() {}

    /// Readings waiting to settle (for tests and the debugger).
    var pendingReadings: Int { readings.count }

    /// Whether a witnessed reading waits for a later snapshot to settle it: then, once fetches
    /// find nothing (and so bring no reading), the relay takes a reading of its own.
    /// (Readings settle oldest first, and a witness covers every reading before it, so the
    /// oldest is witnessed if any is.)
    var awaitsSettling: Bool { readings.first?.witness != nil }

    /// Takes a reading: settles the witnessed readings whose transactions have all ended, and
    /// keeps this one. Returns its number, for ``witness(readingsThrough:transaction:)``.
    @discardableResult
    mutating func observe(_ horizon: OutboxHorizon) -> Int {
        while let first = readings.first, let witness = first.witness, witness < horizon.oldestRunningTransaction {
            settled = max(settled, first.id)
            readings.removeFirst()
        }
        let number = nextNumber
        nextNumber += 1
        // An older reading of the same id settles first; a full list only delays the floor.
        if horizon.lastAllocatedID > max(settled, readings.last?.id ?? 0), readings.count < Self.maximumReadings {
            readings.append((number, horizon.lastAllocatedID, nil))
        }
        return number
    }

    /// Records that `transaction` was assigned after reading `number` was taken (and so after
    /// every earlier one): it witnesses those that have no witness yet.
    mutating func witness(readingsThrough number: Int, transaction: Int64) {
        for index in readings.indices where readings[index].number <= number && readings[index].witness == nil {
            readings[index].witness = transaction
        }
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
}
