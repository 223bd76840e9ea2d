import Foundation

/// RFC 3339 timestamps as OrderFlow writes them: UTC, `Z`, exactly three fractional digits.
///
/// Formatting rounds to the nearest millisecond and parsing of up to three fractional digits
/// yields the nearest `Date` to that millisecond, so a `Date` holding whole milliseconds
/// survives a round trip unchanged. Parsing accepts any offset and any number of fractional
/// digits.
enum RFC3339 {
    private static let wholeSeconds = Date.ISO8601FormatStyle()

    /// `2026-01-01T12:00:00.123Z`.
    static func format(_ date: Date) -> String {
        let milliseconds = Int64((date.timeIntervalSince1970 * 1000).rounded())
        let (seconds, fraction) = floorDivision(milliseconds, by: 1000)
        let text = wholeSeconds.format(Date(timeIntervalSince1970: Double(seconds)))
        guard text.hasSuffix("Z") else { return text }
        let digits = String(fraction)
        let padded = String(repeating: "0", count: 3 - digits.count) + digits
        return "\(text.dropLast()).\(padded)Z"
    }

    /// The date written in `text`, or nil when it is not an RFC 3339 date-time with an offset.
    static func parse(_ text: String) -> Date? {
        let characters = Array(text.utf8)
        // yyyy-mm-ddThh:mm:ss is 19 bytes; a fraction follows it, then the offset.
        guard characters.count >= 20, characters[10] == UInt8(ascii: "T") else { return nil }
        var fractionDigits: [UInt8] = []
        var rest = characters[19...]
        if rest.first == UInt8(ascii: ".") {
            rest = rest.dropFirst()
            while let digit = rest.first, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(digit) {
                fractionDigits.append(digit)
                rest = rest.dropFirst()
            }
            guard !fractionDigits.isEmpty else { return nil }
        }
        let base = String(decoding: characters[..<19] + rest, as: UTF8.self)
        guard let whole = try? wholeSeconds.parse(base) else { return nil }
        let seconds = whole.timeIntervalSince1970
        if fractionDigits.count <= 3 {
            let padded = fractionDigits + Array(repeating: UInt8(ascii: "0"), count: 3 - fractionDigits.count)
            guard let milliseconds = Int64(String(decoding: padded, as: UTF8.self)) else { return nil }
            return Date(timeIntervalSince1970: Double(Int64(seconds) * 1000 + milliseconds) / 1000)
        }
        guard let fraction = Double("0." + String(decoding: fractionDigits, as: UTF8.self)) else { return nil }
        return Date(timeIntervalSince1970: seconds + fraction)
    }

    private static func floorDivision(_ value: Int64, by divisor: Int64) -> (Int64, Int64) {
        let quotient = value / divisor
        let remainder = value % divisor
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
