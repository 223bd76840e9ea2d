@testable import Gateway
import Testing

@Suite("Admission forecast")
struct AdmissionForecastTests {
    typealias Turn = AdmissionForecast.Turn

    /// Registers `count` reads of `bucket`, returning their turns in order.
    static func register(_ count: Int, of bucket: String, in forecast: inout AdmissionForecast) -> [Turn] {
        (0..<count).map { _ in forecast.register(bucket) }
    }

    /// Makes `bucket` known with `remaining` tokens: one read registered, and its decision.
    static func know(_ bucket: String, remaining: Int, in forecast: inout AdmissionForecast) {
        _ = forecast.register(bucket)
        forecast.settle(bucket, remaining: remaining, turn: .waits)
    }

    @Test("a bucket never decided makes its reads wait; after a decision, reads go first while the known tokens cover every pending read")
    func speculatesWithinKnownTokens() {
        var forecast = AdmissionForecast(capacity: 10)
        let first = Self.register(2, of: "alice", in: &forecast)
        #expect(first == [.waits, .waits], "nothing known yet")
        // Their decisions come back, in Redis's order: each remaining counts its own token.
        forecast.settle("alice", remaining: 4, turn: .waits)
        #expect(forecast.entries["alice"] == .init(remaining: 4, pending: 1))
        forecast.settle("alice", remaining: 3, turn: .waits)
        let next = Self.register(4, of: "alice", in: &forecast)
        #expect(next == [.mayGoFirst, .mayGoFirst, .mayGoFirst, .waits], "three pending reads spend the three known tokens")
        let other = forecast.register("bob")
        #expect(other == .waits, "buckets are separate")

        forecast.settle("alice", remaining: 2, turn: .mayGoFirst)
        #expect(forecast.entries["alice"] == .init(remaining: 2, pending: 3))
        let meanwhile = forecast.register("alice")
        #expect(meanwhile == .waits, "the three still pending spend the two left and more")
        for (remaining, turn) in [(1, Turn.mayGoFirst), (0, .mayGoFirst), (0, .waits), (0, .waits)] {
            forecast.settle("alice", remaining: remaining, turn: turn)
        }
        #expect(forecast.entries["alice"] == .init(remaining: 0, pending: 0))
        let empty = forecast.register("alice")
        #expect(empty == .waits, "an empty bucket waits for its decision")
        // A refill shows in the next (waited-for) decision, and reads go first again.
        forecast.settle("alice", remaining: 5, turn: .waits)
        let refilled = forecast.register("alice")
        #expect(refilled == .mayGoFirst)
    }

    @Test("a read waiting for its decision counts against the spare tokens, so a read behind it does not go first on its token")
    func waitingReadsCount() {
        var forecast = AdmissionForecast(capacity: 10)
        _ = forecast.register("alice")  // x: the first, waits
        let behind = forecast.register("alice")  // a: waits too, its decision after x's
        #expect(behind == .waits)
        forecast.settle("alice", remaining: 1, turn: .waits)  // x's decision: one token left, which a will take
        let next = forecast.register("alice")
        #expect(next == .waits, "a's pending decision spends the one token reported")
        #expect(forecast.entries["alice"] == .init(remaining: 1, pending: 2))
    }

    @Test("without a decision (Redis unreachable) nothing is known: reads wait until a decision says otherwise")
    func unknownAfterFailure() {
        var forecast = AdmissionForecast(capacity: 10)
        Self.know("alice", remaining: 5, in: &forecast)
        let turns = Self.register(2, of: "alice", in: &forecast)
        #expect(turns == [.mayGoFirst, .mayGoFirst])
        forecast.settle("alice", remaining: nil, turn: .mayGoFirst)
        #expect(forecast.entries["alice"] == .init(remaining: 0, pending: 1))
        let blind = forecast.register("alice")
        #expect(blind == .waits)
        forecast.settle("alice", remaining: nil, turn: .mayGoFirst)
        forecast.settle("alice", remaining: 4, turn: .waits)
        let seeing = forecast.register("alice")
        #expect(seeing == .mayGoFirst)
    }

    @Test("it remembers at most its capacity; full, it forgets the buckets with nothing pending, and an unregistered read settles nothing")
    func bounded() {
        var forecast = AdmissionForecast(capacity: 2)
        for bucket in ["a", "b"] { Self.know(bucket, remaining: 9, in: &forecast) }
        let a = forecast.register("a")
        #expect(a == .mayGoFirst)
        let c = forecast.register("c")
        #expect(c == .waits)
        #expect(Set(forecast.entries.keys) == ["a", "c"], "b had nothing pending; a and c keep their reads")
        let d = forecast.register("d")
        #expect(d == .untracked, "both pending: d is not remembered, its read waits")
        forecast.settle("d", remaining: 9, turn: .untracked)
        #expect(forecast.entries["d"] == nil)
        // An untracked read's decision leaves a later registration of the same bucket alone.
        forecast.settle("a", remaining: 8, turn: .mayGoFirst)
        let d2 = forecast.register("d")
        #expect(d2 == .waits)
        forecast.settle("d", remaining: 7, turn: .untracked)
        #expect(forecast.entries["d"] == .init(remaining: 0, pending: 1))
        // With nothing pending, a stream of new buckets keeps the forecast within its capacity,
        // and each newcomer is remembered.
        forecast.settle("c", remaining: 9, turn: .waits)
        forecast.settle("d", remaining: 7, turn: .waits)
        for index in 0..<20 {
            let turn = forecast.register("k\(index)")
            #expect(turn == .waits, "a newcomer finds room")
            forecast.settle("k\(index)", remaining: 1, turn: turn)
            #expect(forecast.entries.count <= 2)
        }
        #expect(forecast.entries["k19"] == .init(remaining: 1, pending: 0))

        var off = AdmissionForecast(capacity: 0)
        let none = off.register("a")
        #expect(none == .untracked && off.entries.isEmpty)
    }

    @Test("the shared forecast lets exactly the known tokens go first across concurrent callers")
    func sharedAcrossTasks() async {
        let forecast = SharedAdmissionForecast(capacity: 10)
        _ = forecast.register("alice")
        forecast.settle("alice", remaining: 51, turn: .waits)
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { forecast.register("alice") == .mayGoFirst } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 51)
    }
}
