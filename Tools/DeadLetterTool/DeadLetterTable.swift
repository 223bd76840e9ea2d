import Foundation
import Outbox

/// Dead letters as a fixed-width text table.
enum DeadLetterTable {
    static func render(_ letters: [DeadLetter]) -> String {
        guard !letters.isEmpty else { return "no dead letters\n" }
        let header = ["POSITION", "FAILED AT", "TYPE", "ORIGINAL", "REASON"]
        let rows = letters.map { letter in
            [
                "\(letter.message.partition):\(letter.message.offset)",
                letter.failedAt.formatted(.iso8601),
                letter.message.headers.text(for: "ce_type") ?? "-",
                "\(letter.original.topic)[\(letter.original.partition)]@\(letter.originalOffset)",
                letter.reason,
            ]
        }
        let widths = (0..<header.count - 1).map { column in ([header] + rows).map { $0[column].count }.max() ?? 0 }
        return ([header] + rows).map { row in
            row.enumerated().map { index, cell in
                index < widths.count ? cell.padding(toLength: widths[index], withPad: " ", startingAt: 0) : cell
            }.joined(separator: "  ")
        }.joined(separator: "\n") + "\n"
    }
}
