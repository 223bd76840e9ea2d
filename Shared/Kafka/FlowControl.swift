/// The consumer's flow-control decisions as a pure value: which partitions to hold back given
/// how many of each one's messages wait (fetched, not yet finished). No librdkafka, no clock,
/// so every case is unit-tested.
///
/// Two holds, each with its own hysteresis:
/// - **alone**: a partition with half the capacity of its own waiting, held until an eighth
///   remains. A handler stuck retrying one message holds back its partition, not the others.
/// - **together**: the partitions not held alone, when the capacity waits across them, held
///   until a quarter remains. While they are held, any of them still above an eighth is moved
///   to a hold of its own: one that does not drain (a stuck handler whose backlog was below its
///   own limit) must not keep the others paused.
struct FlowControl: Sendable, Equatable {
    /// Messages waiting across the partitions before all are held.
    let capacity: Int
    private(set) var heldAlone: Set<TopicPartition> = []
    private(set) var heldTogether: Set<TopicPartition> = []

    init(capacity: Int) {
        self.capacity = max(capacity, 1)
    }

    var together: (hold: Int, release: Int) { (capacity, max(capacity / 4, 1)) }
    var alone: (hold: Int, release: Int) { (max(capacity / 2, 1), max(capacity / 8, 1)) }

    /// What changed: partitions flow control starts holding, and partitions it stops holding.
    struct Changes: Sendable, Equatable {
        var hold: Set<TopicPartition> = []
        var release: Set<TopicPartition> = []
    }

    /// Whether flow control holds `partition` back.
    func holds(_ partition: TopicPartition) -> Bool {
        heldAlone.contains(partition) || heldTogether.contains(partition)
    }

    /// Decides with the waiting counts of the `assigned` partitions (missing: none waiting).
    /// Partitions the application holds paused (`appPaused`: a handler backing off, retrying one
    /// message) drain only when it lets go, so they do not count toward holding or releasing the
    /// others together.
    mutating func update(
        assigned: Set<TopicPartition>, waiting: [TopicPartition: Int], appPaused: Set<TopicPartition> = []
    ) -> Changes {
        let before = assigned.filter(holds)
        heldAlone.formIntersection(assigned)
        heldTogether.formIntersection(assigned)
        for partition in assigned {
            let count = waiting[partition, default: 0]
            if count >= alone.hold {
                heldAlone.insert(partition)
            } else if count <= alone.release {
                heldAlone.remove(partition)
            }
        }
        let counted = assigned.subtracting(appPaused)
        var within = counted.subtracting(heldAlone)
        var load = within.reduce(0) { $0 + waiting[$1, default: 0] }
        if !heldTogether.isEmpty, load > together.release {
            for partition in within where waiting[partition, default: 0] > alone.release {
                heldAlone.insert(partition)
            }
            within = counted.subtracting(heldAlone)
            load = within.reduce(0) { $0 + waiting[$1, default: 0] }
        }
        if load >= together.hold {
            heldTogether.formUnion(within)
        } else if load <= together.release {
            heldTogether = []
        }
        heldTogether.subtract(heldAlone)
        let after = assigned.filter(holds)
        return Changes(hold: after.subtracting(before), release: before.subtracting(after))
    }

    /// Forgets `partition` (revoked).
    mutating func forget(_ partition: TopicPartition) {
        heldAlone.remove(partition)
        heldTogether.remove(partition)
    }
}
