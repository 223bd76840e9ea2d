import Contracts
import Foundation
import Testing

@Suite("UUIDv7")
struct UUIDv7Tests {
    private func timestamp(_ id: UUID) -> UInt64 {
        let bytes = id.uuid
        return [bytes.0, bytes.1, bytes.2, bytes.3, bytes.4, bytes.5].reduce(0) { $0 << 8 | UInt64($1) }
    }

    @Test("version 7, variant 10, and the date's milliseconds in the first 48 bits")
    func layout() {
        var generator = SystemRandomNumberGenerator()
        let milliseconds: [UInt64] = [0, 1, 999, 1_767_268_800_123, 0xFFFF_FFFF_FFFF]
            + (0..<200).map { _ in UInt64.random(in: 1_500_000_000_000...2_500_000_000_000, using: &generator) }
        for ms in milliseconds {
            let id = UUID.v7(at: Date(timeIntervalSince1970: Double(ms) / 1000))
            #expect(id.version == 7)
            #expect(id.uuid.6 >> 4 == 7)
            #expect(id.uuid.8 >> 6 == 0b10, "variant bits of \(id)")
            #expect(timestamp(id) == ms, "\(id) for \(ms) ms")
        }
        #expect(UUID().version == 4)
    }

    @Test("ids made at increasing times sort in time order as text")
    func sortable() {
        let start = Date(timeIntervalSince1970: 1_767_268_800)
        let ids = (0..<2_000).map { UUID.v7(at: start.addingTimeInterval(Double($0) / 1000)).uuidString }
        #expect(ids == ids.sorted())
        let lowercased = ids.map { $0.lowercased() }
        #expect(lowercased == lowercased.sorted())
    }

    @Test("ids made within one millisecond by one clock count upwards")
    func monotonicWithinMillisecond() {
        let clock = UUIDv7Clock()
        let now = Date(timeIntervalSince1970: 1_767_268_800)
        let ids = (0..<1_000).map { _ in UUID.v7(at: now, clock: clock).uuidString }
        #expect(ids == ids.sorted())
        #expect(Set(ids.map { $0.prefix(18) }).count == ids.count, "the 12-bit counter differs for each id")
    }

    @Test("10,000 ids are unique")
    func unique() {
        let ids = (0..<10_000).map { _ in UUID.v7() }
        #expect(Set(ids).count == 10_000)
        #expect(ids.allSatisfy { $0.version == 7 })
    }
}
