import Foundation
import NIOConcurrencyHelpers

/// Where a ``JSONLogHandler`` writes complete lines. Writes are serialised so lines never interleave.
public struct LogSink: Sendable {
    private let writeLine: @Sendable (String) -> Void

    /// A sink that calls `write` for every line (tests collect lines this way).
    public init(_ write: @escaping @Sendable (String) -> Void) {
        self.writeLine = write
    }

    func write(_ line: String) {
        writeLine(line)
    }

    /// Standard output, one `write(2)` per line.
    public static let standardOutput: LogSink = {
        let lock = NIOLock()
        return LogSink { line in
            var bytes = Array(line.utf8)
            lock.withLock {
                bytes.withUnsafeMutableBytes { buffer in
                    guard let base = buffer.baseAddress else { return }
                    var offset = 0
                    while offset < buffer.count {
                        let written = Foundation.write(1, base + offset, buffer.count - offset)
                        if written <= 0 { return }
                        offset += written
                    }
                }
            }
        }
    }()
}
