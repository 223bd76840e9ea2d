@testable import Outbox
import Testing

/// The relay's publish floor as a pure value: when ids settle, and what holds the floor back.
@Suite("Publish floor")
struct PublishFloorTests {
    /// A fetch's reading: `xmin` oldest running transaction, `last` last id drawn.
    private func horizon(xmin: Int64, last: Int64) -> OutboxHorizon {
        OutboxHorizon(oldestRunningTransaction: xmin, lastAllocatedID: last)
    }

    @Test("a reading settles only once a transaction assigned after it was passed by a later snapshot's xmin")
    func settlesAfterWitnessAndEnd() {
        var floor = PublishFloor()
        let first = floor.observe(horizon(xmin: 100, last: 40))   // ids ≤ 40 drawn
        floor.observe(horizon(xmin: 200, last: 40))               // no witness yet: nothing settles, whatever xmin says
        #expect(floor.settled == 0)
        floor.witness(readingsThrough: first, transaction: 150)  // a mark's transaction, assigned after the reading
        floor.observe(horizon(xmin: 150, last: 45))               // 150 itself may still be running
        #expect(floor.settled == 0)
        floor.observe(horizon(xmin: 151, last: 45))               // every transaction up to 150 has ended
        #expect(floor.settled == 40)
    }

    @Test("a quiet database settles nothing without a witness: the open transaction that drew an id is never assumed ended")
    func quietDatabaseNeedsAWitness() {
        // Transaction 1000 drew id 100 and is still open; nothing else assigned a transaction
        // id, so every snapshot shows xmin = xmax = 1000 and does not list it.
        var floor = PublishFloor()
        var last = 0
        for _ in 0..<10 {
            last = floor.observe(horizon(xmin: 1_000, last: 100))
            floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        }
        #expect(floor.settled == 0 && floor.floor == 0)
        // A mark after those readings gets 1001; 1000 stays the oldest running transaction.
        floor.witness(readingsThrough: last, transaction: 1_001)
        floor.observe(horizon(xmin: 1_000, last: 100))
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.floor == 0)
        // Transaction 1000 ended (and 1001 did).
        floor.observe(horizon(xmin: 1_002, last: 100))
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.settled == 100 && floor.floor == 100)
    }

    @Test("a witness covers the readings taken before it, not the ones after")
    func witnessCoversEarlierReadingsOnly() {
        var floor = PublishFloor()
        let early = floor.observe(horizon(xmin: 10, last: 20))
        floor.witness(readingsThrough: early, transaction: 30)
        floor.observe(horizon(xmin: 10, last: 50))                // taken after the witness
        let third = floor.observe(horizon(xmin: 31, last: 50))
        #expect(floor.settled == 20, "50 was read after transaction 30 was assigned: it needs a witness of its own")
        floor.witness(readingsThrough: third, transaction: 40)
        floor.observe(horizon(xmin: 41, last: 50))
        #expect(floor.settled == 50)
    }

    @Test("the floor stops below the lowest unpublished row and the lowest row in flight")
    func boundedByUnpublishedAndInFlight() {
        var floor = PublishFloor()
        let reading = floor.observe(horizon(xmin: 10, last: 100))
        floor.witness(readingsThrough: reading, transaction: 12)  // assigned after the reading: above its xmin
        floor.observe(horizon(xmin: 13, last: 100))
        #expect(floor.settled == 100)
        floor.advance(lowestUnpublished: 60, lowestInFlight: 80)
        #expect(floor.floor == 59)
        floor.advance(lowestUnpublished: 90, lowestInFlight: 75)
        #expect(floor.floor == 74)
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.floor == 100)
        floor.advance(lowestUnpublished: 20, lowestInFlight: 5)
        #expect(floor.floor == 100, "the floor never goes down")
    }

    @Test("a long transaction holds the floor back; readings stay bounded; it moves once the transaction ends")
    func longTransaction() {
        var floor = PublishFloor()
        var transaction: Int64 = 60
        for step in 0..<(PublishFloor.maximumReadings * 2) {
            let reading = floor.observe(horizon(xmin: 50, last: Int64(10 + step)))  // transaction 50 stays open
            floor.witness(readingsThrough: reading, transaction: transaction)
            transaction += 1
            floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        }
        #expect(floor.settled == 0 && floor.floor == 0)
        #expect(floor.pendingReadings <= PublishFloor.maximumReadings)
        floor.observe(horizon(xmin: 10_000, last: 20_000))        // transaction 50 ended, and all since
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        // The kept readings (the first maximumReadings) settle; the dropped ones were newer.
        #expect(floor.settled == Int64(10 + PublishFloor.maximumReadings - 1) && floor.floor == floor.settled)
    }

    @Test("repeated readings of the same last id are kept once")
    func idleReadingsCollapse() {
        var floor = PublishFloor()
        for _ in 0..<100 { floor.observe(horizon(xmin: 5, last: 3)) }
        #expect(floor.pendingReadings == 1)
        #expect(floor.settled == 0)
    }

    @Test("only a witnessed reading asks for a reading of its own: an unwitnessed one cannot settle, a settled one is gone")
    func awaitsSettlingOnlyWhenWitnessed() {
        var floor = PublishFloor()
        #expect(!floor.awaitsSettling)
        let reading = floor.observe(horizon(xmin: 20, last: 7))
        #expect(!floor.awaitsSettling, "no transaction after it yet")
        floor.witness(readingsThrough: reading, transaction: 25)
        #expect(floor.awaitsSettling)
        floor.observe(horizon(xmin: 25, last: 7))                 // 25 may still run
        #expect(floor.awaitsSettling)
        floor.observe(horizon(xmin: 26, last: 7))
        #expect(!floor.awaitsSettling && floor.settled == 7)
    }
}
