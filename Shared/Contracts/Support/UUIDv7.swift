import Foundation
import Synchronization

extension UUID {
    /// A version 7 UUID (RFC 9562): a 48-bit Unix timestamp in milliseconds, the version and
    /// variant bits, and 74 random bits.
    ///
    /// Ids made from increasing times sort in time order, both as bytes and as text. Within one
    /// millisecond of one process the 12 bits after the version are a counter started at a
    /// random value (RFC 9562 method 1), so ids made in a row also sort in order; when the
    /// counter would overflow, the id is simply random in those bits.
    ///
    /// The timestamp is the date rounded to the nearest millisecond (as `ce_time` is written);
    /// dates before 1970 are clamped to 0.
    public static func v7(at date: Date = Date()) -> UUID {
        v7(at: date, clock: .shared)
    }

    /// ``v7(at:)`` with the in-millisecond counter of `clock` (tests use their own).
    package static func v7(at date: Date, clock: UUIDv7Clock) -> UUID {
        let milliseconds = UInt64(max(0, (date.timeIntervalSince1970 * 1000).rounded()))
        var random = SystemRandomNumberGenerator()
        let counter = clock.counter(forMillisecond: milliseconds, using: &random)
        let tail = random.next() as UInt64
        let timestamp = milliseconds & 0xFFFF_FFFF_FFFF
        return UUID(uuid: (
            UInt8(truncatingIfNeeded: timestamp >> 40),
            UInt8(truncatingIfNeeded: timestamp >> 32),
            UInt8(truncatingIfNeeded: timestamp >> 24),
            UInt8(truncatingIfNeeded: timestamp >> 16),
            UInt8(truncatingIfNeeded: timestamp >> 8),
            UInt8(truncatingIfNeeded: timestamp),
            0x70 | UInt8(truncatingIfNeeded: counter >> 8),
            UInt8(truncatingIfNeeded: counter),
            0x80 | UInt8(truncatingIfNeeded: tail >> 56) & 0x3F,
            UInt8(truncatingIfNeeded: tail >> 48),
            UInt8(truncatingIfNeeded: tail >> 40),
            UInt8(truncatingIfNeeded: tail >> 32),
            UInt8(truncatingIfNeeded: tail >> 24),
            UInt8(truncatingIfNeeded: tail >> 16),
            UInt8(truncatingIfNeeded: tail >> 8),
            UInt8(truncatingIfNeeded: tail)
        ))
    }

    /// The UUID version (the high nibble of byte 6): 4 for random ids, 7 for ``v7(at:)``.
    public var version: Int {
        Int(uuid.6 >> 4)
    }
}

/// The state behind UUIDv7's in-millisecond counter; one per process (``shared``).
package final class UUIDv7Clock: Sendable {
    /// The process-wide clock ``UUID/v7(at:)`` uses.
    package static let shared = UUIDv7Clock()

    /// A clock with no history.
    package init() {}

    private struct State {
        var millisecond: UInt64 = 0
        var counter: UInt16 = 0
    }

    private let state = Mutex(State())

    /// A 12-bit value: the next counter value when `millisecond` repeats the previous one,
    /// else a fresh random start (with headroom, so a burst can count upwards).
    package func counter(forMillisecond millisecond: UInt64, using random: inout SystemRandomNumberGenerator) -> UInt16 {
        let fresh = UInt16.random(in: 0...0x7FF, using: &random)
        let overflowValue = UInt16.random(in: 0...0xFFF, using: &random)
        return state.withLock { state in
            if millisecond == state.millisecond, state.counter < 0xFFF {
                state.counter += 1
                return state.counter
            }
            if millisecond == state.millisecond {
                return overflowValue
            }
            state = State(millisecond: millisecond, counter: fresh)
            return fresh
        }
    }
}
