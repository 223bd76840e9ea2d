@testable import Kafka
import Testing

/// ``FlowControl`` alone (pure): which partitions are held back, and when they are let go.
@Suite("Kafka consumer flow-control decisions")
struct FlowControlDecisionTests {
    let p0 = TopicPartition(topic: "t", partition: 0)
    let p1 = TopicPartition(topic: "t", partition: 1)
    let p2 = TopicPartition(topic: "t", partition: 2)
    var all: Set<TopicPartition> { [p0, p1, p2] }

    @Test("one partition with half the capacity of its own waiting is held alone, and let go at an eighth")
    func alone() {
        var flow = FlowControl(capacity: 40)
        #expect(flow.update(assigned: all, waiting: [p0: 19]) == .init())
        #expect(flow.update(assigned: all, waiting: [p0: 20]) == .init(hold: [p0]))
        #expect(flow.update(assigned: all, waiting: [p0: 6, p1: 10]) == .init(), "held until an eighth remains")
        #expect(flow.update(assigned: all, waiting: [p0: 5, p1: 10]) == .init(release: [p0]))
    }

    @Test("the capacity waiting across partitions holds them all, until a quarter remains")
    func together() {
        var flow = FlowControl(capacity: 40)
        #expect(flow.update(assigned: all, waiting: [p0: 14, p1: 14, p2: 12]) == .init(hold: all))
        #expect(flow.update(assigned: all, waiting: [p0: 4, p1: 3, p2: 4]) == .init(), "11 left: above a quarter")
        #expect(flow.update(assigned: all, waiting: [p0: 4, p1: 3, p2: 3]) == .init(release: all))
    }

    @Test("a partition that stops draining while all are held is held alone, so the others are let go")
    func strandedByOne() {
        var flow = FlowControl(capacity: 40)
        // p0 is stuck with 15 (below its own limit of 20); a burst on p1 and p2 holds everything.
        #expect(flow.update(assigned: all, waiting: [p0: 15, p1: 19, p2: 6]) == .init(hold: all))
        // p1 and p2 drain; p0 does not. Without a hold of its own, 15 > 10 would hold all for ever.
        let changes = flow.update(assigned: all, waiting: [p0: 15, p1: 0, p2: 0])
        #expect(changes == .init(release: [p1, p2]))
        #expect(flow.holds(p0) && flow.heldAlone == [p0])
        #expect(flow.update(assigned: all, waiting: [p0: 5]) == .init(release: [p0]), "and p0 once it drains")
    }

    @Test("a revoked partition is forgotten; an unassigned one is never reported")
    func revoked() {
        var flow = FlowControl(capacity: 40)
        _ = flow.update(assigned: all, waiting: [p0: 30])
        flow.forget(p0)
        #expect(!flow.holds(p0))
        #expect(flow.update(assigned: [p1, p2], waiting: [p0: 30]) == .init())
    }
}

extension FlowControlDecisionTests {
    @Test("partitions the application holds paused (backing off) do not keep the others held together")
    func appPausedDoNotStrand() {
        let p3 = TopicPartition(topic: "t", partition: 3), p4 = TopicPartition(topic: "t", partition: 4)
        let assigned: Set<TopicPartition> = [p0, p1, p2, p3, p4]
        var flow = FlowControl(capacity: 80)
        // A burst: 80 across five partitions, none at its own limit of 40.
        #expect(flow.update(assigned: assigned, waiting: [p0: 10, p1: 10, p2: 10, p3: 39, p4: 11]) == .init(hold: assigned))
        // p0–p2 are stuck retrying (the application paused them), each at an eighth; p3 and p4
        // drain. Counted, their 30 would stay above a quarter (20) for as long as they retry.
        let changes = flow.update(assigned: assigned, waiting: [p0: 10, p1: 10, p2: 10], appPaused: [p0, p1, p2])
        #expect(changes.release.isSuperset(of: [p3, p4]))
        #expect(!flow.holds(p3) && !flow.holds(p4))
    }
}
