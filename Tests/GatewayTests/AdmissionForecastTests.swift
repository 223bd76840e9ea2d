@testable import Gateway
import Testing

@Suite("Admission forecast")
struct AdmissionForecastTests {
    @Test("a bucket never decided waits for its decision; after one, reads go first while the known tokens cover them")
    func speculatesWithinKnownTokens() {
        var forecast = AdmissionForecast(capacity: 10)
        let went1 = forecast.speculate(on: "alice")
        #expect(!went1, "nothing known yet")
        forecast.settle("alice", remaining: 3, speculated: false)
        let went2 = forecast.speculate(on: "alice")
        #expect(went2)
        let went3 = forecast.speculate(on: "alice")
        #expect(went3)
        let went4 = forecast.speculate(on: "alice")
        #expect(went4)
        let went5 = forecast.speculate(on: "alice")
        #expect(!went5, "three in flight spend the three known tokens")
        #expect(forecast.entries["alice"] == .init(remaining: 3, inFlight: 3))
        let went6 = forecast.speculate(on: "bob")
        #expect(!went6, "buckets are separate")

        // The decisions come back: each one's remaining already counts its own token.
        forecast.settle("alice", remaining: 2, speculated: true)
        #expect(forecast.entries["alice"] == .init(remaining: 2, inFlight: 2))
        let went7 = forecast.speculate(on: "alice")
        #expect(!went7, "the two still in flight spend the two left")
        forecast.settle("alice", remaining: 1, speculated: true)
        forecast.settle("alice", remaining: 0, speculated: true)
        #expect(forecast.entries["alice"] == .init(remaining: 0, inFlight: 0))
        let went8 = forecast.speculate(on: "alice")
        #expect(!went8, "an empty bucket waits for its decision")
        // A refill shows in the next (waited-for) decision, and reads go first again.
        forecast.settle("alice", remaining: 5, speculated: false)
        let went9 = forecast.speculate(on: "alice")
        #expect(went9)
    }

    @Test("without a decision (Redis unreachable) nothing is known: reads wait; speculations in flight still settle")
    func unknownAfterFailure() {
        var forecast = AdmissionForecast(capacity: 10)
        forecast.settle("alice", remaining: 5, speculated: false)
        let went10 = forecast.speculate(on: "alice")
        #expect(went10)
        let went11 = forecast.speculate(on: "alice")
        #expect(went11)
        forecast.settle("alice", remaining: nil, speculated: true)
        #expect(forecast.entries["alice"] == .init(remaining: 0, inFlight: 1))
        let went12 = forecast.speculate(on: "alice")
        #expect(!went12)
        forecast.settle("alice", remaining: nil, speculated: true)
        #expect(forecast.entries["alice"] == nil)
        forecast.settle("bob", remaining: nil, speculated: false)
        #expect(forecast.entries.isEmpty)
    }

    @Test("it remembers at most its capacity; full, it drops the buckets with nothing in flight")
    func bounded() {
        var forecast = AdmissionForecast(capacity: 2)
        forecast.settle("a", remaining: 9, speculated: false)
        forecast.settle("b", remaining: 9, speculated: false)
        let went13 = forecast.speculate(on: "a")
        #expect(went13)
        forecast.settle("c", remaining: 9, speculated: false)
        #expect(Set(forecast.entries.keys) == ["a", "c"], "b had nothing in flight; a keeps its speculation")
        let went14 = forecast.speculate(on: "c")
        #expect(went14)
        forecast.settle("d", remaining: 9, speculated: false)
        #expect(Set(forecast.entries.keys) == ["a", "c"], "both in flight: d is not remembered, its reads wait")
        let went15 = forecast.speculate(on: "d")
        #expect(!went15)
        forecast.settle("a", remaining: 8, speculated: true)
        forecast.settle("c", remaining: 8, speculated: true)
        for index in 0..<20 { forecast.settle("k\(index)", remaining: 1, speculated: false) }
        #expect(forecast.entries.count <= 2)

        var off = AdmissionForecast(capacity: 0)
        off.settle("a", remaining: 9, speculated: false)
        let went16 = off.speculate(on: "a")
        #expect(!went16)
    }

    @Test("the shared forecast lets exactly the known tokens go first across concurrent callers")
    func sharedAcrossTasks() async {
        let forecast = SharedAdmissionForecast(capacity: 10)
        forecast.settle("alice", remaining: 50, speculated: false)
        let granted = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<200 { group.addTask { forecast.speculate(on: "alice") } }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(granted == 50)
    }
}
