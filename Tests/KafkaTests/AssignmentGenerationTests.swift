@testable import Kafka
import Testing

/// ``ConsumerCore/Assignment``'s generations alone (pure): which messages are still handed out,
/// and whose offsets may still be stored, across a revoke and a later assignment of the same partition.
@Suite("Kafka consumer assignment generations")
struct AssignmentGenerationTests {
    let p0 = TopicPartition(topic: "t", partition: 0)
    let p1 = TopicPartition(topic: "t", partition: 1)

    @Test("a handler running through a revoke may mark done until the revoke ends, and never once the partition came back")
    func revokeAndReassign() throws {
        var assignment = ConsumerCore.Assignment(flow: FlowControl(capacity: 10))
        assignment.assign([p0, p1])
        let first = try #require(assignment.generations[p0])
        #expect(assignment.handsOut(p0, generation: first))
        #expect(assignment.mayStore(p0, generation: first))

        assignment.stopHandingOut([p0])
        #expect(!assignment.handsOut(p0, generation: first), "nothing more of a partition being revoked is handed out")
        #expect(assignment.mayStore(p0, generation: first), "handlers drained by the revoke still mark their messages done")
        #expect(assignment.handsOut(p1, generation: assignment.generations[p1]), "the other partition is untouched")

        assignment.release([p0])
        #expect(!assignment.mayStore(p0, generation: first))

        assignment.assign([p0])
        let second = try #require(assignment.generations[p0])
        #expect(second != first)
        #expect(!assignment.mayStore(p0, generation: first), "a handler that outlived the drain cannot set the new assignment's offset back")
        #expect(!assignment.handsOut(p0, generation: first), "nor keep retrying a message the new assignment delivers again")
        #expect(assignment.mayStore(p0, generation: second))
        #expect(assignment.handsOut(p0, generation: second))
    }

    @Test("a message built outside a consumer (no generation) counts as owned while its partition is assigned")
    func withoutGeneration() {
        var assignment = ConsumerCore.Assignment(flow: FlowControl(capacity: 10))
        #expect(!assignment.handsOut(p0, generation: nil))
        assignment.assign([p0])
        #expect(assignment.handsOut(p0, generation: nil))
    }

    @Test("the generation a consumer stamps on a message is not part of its equality")
    func equalityIgnoresGeneration() {
        var consumed = KafkaMessage(topicPartition: p0, offset: 7, key: [1], value: [2], headers: [], timestampMs: 9)
        let built = consumed
        consumed.assignmentGeneration = 3
        #expect(consumed == built)
        var other = built
        other.offset = 8
        #expect(other != built)
    }
}
