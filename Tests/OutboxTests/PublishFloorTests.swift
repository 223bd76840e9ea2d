@testable import Outbox
import Testing

/// The relay's publish floor as a pure value: when ids settle, and what holds the floor back.
@Suite("Publish floor")
struct PublishFloorTests {
    /// A reading: `xmin` oldest running transaction, `xmax` next transaction, `last` last id drawn.
    private func horizon(xmin: Int64, xmax: Int64, last: Int64) -> OutboxHorizon {
        OutboxHorizon(oldestRunningTransaction: xmin, nextTransaction: xmax, lastAllocatedID: last)
    }

    @Test("a reading settles only after a later snapshot witnessed it and its transactions ended")
    func settlesAfterWitnessAndEnd() {
        var floor = PublishFloor()
        floor.observe(horizon(xmin: 100, xmax: 105, last: 40))   // ids ≤ 40 drawn; not witnessed yet
        #expect(floor.settled == 0)
        floor.observe(horizon(xmin: 103, xmax: 110, last: 50))   // witnesses 40 with 110; 103 < 110
        #expect(floor.settled == 0)
        floor.observe(horizon(xmin: 109, xmax: 112, last: 55))   // 109 < 110: transaction 109 may hold one of them
        #expect(floor.settled == 0)
        floor.observe(horizon(xmin: 110, xmax: 115, last: 60))   // all below 110 ended: 40 settles
        #expect(floor.settled == 40)
        floor.observe(horizon(xmin: 113, xmax: 116, last: 60))   // 50 (witness 112) settles; 55 (witness 115) not yet
        #expect(floor.settled == 50)
        floor.observe(horizon(xmin: 116, xmax: 116, last: 60))   // nothing running: 55 and 60 settle
        #expect(floor.settled == 60)
    }

    @Test("a quiet database (no transaction running) settles a reading at the next one")
    func quietDatabase() {
        var floor = PublishFloor()
        floor.observe(horizon(xmin: 200, xmax: 200, last: 7))
        floor.observe(horizon(xmin: 200, xmax: 200, last: 7))
        #expect(floor.settled == 7)
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.floor == 7)
    }

    @Test("the floor stops below the lowest unpublished row and the lowest row in flight")
    func boundedByUnpublishedAndInFlight() {
        var floor = PublishFloor()
        floor.observe(horizon(xmin: 10, xmax: 10, last: 100))
        floor.observe(horizon(xmin: 10, xmax: 10, last: 100))
        #expect(floor.settled == 100)
        floor.advance(lowestUnpublished: 60, lowestInFlight: 80)
        #expect(floor.floor == 59)
        floor.advance(lowestUnpublished: 90, lowestInFlight: 75)
        #expect(floor.floor == 74)
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.floor == 100)
    }

    @Test("the floor never goes down")
    func monotonic() {
        var floor = PublishFloor()
        floor.observe(horizon(xmin: 10, xmax: 10, last: 100))
        floor.observe(horizon(xmin: 10, xmax: 10, last: 100))
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.floor == 100)
        floor.advance(lowestUnpublished: 20, lowestInFlight: 5)
        #expect(floor.floor == 100)
    }

    @Test("a long transaction holds the floor back; readings stay bounded; it moves once the transaction ends")
    func longTransaction() {
        var floor = PublishFloor()
        floor.observe(horizon(xmin: 50, xmax: 51, last: 10))      // transaction 50 is running and may hold an id ≤ 10
        for step in 0..<(PublishFloor.maximumReadings * 2) {
            let next = Int64(60 + step)
            floor.observe(horizon(xmin: 50, xmax: next, last: Int64(11 + step)))
            floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        }
        #expect(floor.settled == 0 && floor.floor == 0)
        #expect(floor.pendingReadings <= PublishFloor.maximumReadings)
        floor.observe(horizon(xmin: 10_000, xmax: 10_000, last: 20_000))  // transaction 50 ended, and all since
        floor.advance(lowestUnpublished: nil, lowestInFlight: nil)
        #expect(floor.settled > 10 && floor.floor == floor.settled)
        floor.observe(horizon(xmin: 10_000, xmax: 10_000, last: 20_000))
        #expect(floor.settled == 20_000)
    }

    @Test("repeated readings of the same last id are kept once")
    func idleReadingsCollapse() {
        var floor = PublishFloor()
        for _ in 0..<100 { floor.observe(horizon(xmin: 5, xmax: 9, last: 3)) }
        #expect(floor.pendingReadings == 1)
        #expect(floor.settled == 0)
    }
}
