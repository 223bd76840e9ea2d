#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Testing

/// A bare TCP connection to a local port, for what an HTTP client library hides: several
/// requests written at once (pipelining) and the raw bytes that come back.
final class RawHTTPConnection {
    private var descriptor: Int32
    /// Whether a read saw the peer close the connection.
    private(set) var peerClosed = false

    init(port: Int) throws {
        let (descriptor, connected) = try loopbackConnect(port: port)
        // Reads give up after a second without data, so a test loops against its own deadline.
        var timeout = timeval(tv_sec: 1, tv_usec: 0)
        setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        self.descriptor = descriptor
        try #require(connected, "connect() to 127.0.0.1:\(port) failed")
    }

    /// Writes `text` in one call.
    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, 0) }
        try #require(written == bytes.count, "short write")
    }

    /// Closes the sending side (a half-close: the peer sees the end of input, and may still answer).
    func shutdownWrite() {
        _ = shutdown(descriptor, Int32(SHUT_WR))
    }

    /// Reads until `done` holds for everything read so far, the peer closes, or `deadline` passes.
    func read(until done: (String) -> Bool, deadline: Duration = .seconds(30)) -> String {
        var received = [UInt8]()
        let end = ContinuousClock.now + deadline
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while ContinuousClock.now < end, !done(String(decoding: received, as: UTF8.self)) {
            let count = chunk.withUnsafeMutableBytes { recv(descriptor, $0.baseAddress, $0.count, 0) }
            if count == 0 {
                peerClosed = true
                break
            }
            if count > 0 { received.append(contentsOf: chunk[0..<count]) }
        }
        return String(decoding: received, as: UTF8.self)
    }

    deinit {
        _ = closeDescriptor(descriptor)
    }
}

/// HTTP/1.1 responses read back to back from raw bytes (bodies framed by `Content-Length` only).
struct RawHTTPResponse {
    var status: Int
    /// Header names lowercased.
    var headers: [String: String]
    var body: String

    /// Every complete response at the start of `text`, in order.
    static func parseAll(_ text: String) -> [RawHTTPResponse] {
        var responses: [RawHTTPResponse] = []
        var rest = Substring(text)
        while let headEnd = rest.range(of: "\r\n\r\n") {
            let lines = rest[..<headEnd.lowerBound].components(separatedBy: "\r\n")
            let statusParts = lines.first?.split(separator: " ") ?? []
            guard statusParts.count >= 2, let status = Int(statusParts[1]) else { break }
            var headers: [String: String] = [:]
            for line in lines.dropFirst() {
                guard let colon = line.firstIndex(of: ":") else { continue }
                headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
            }
            let length = headers["content-length"].flatMap { Int($0) } ?? 0
            let bodyStart = headEnd.upperBound
            guard rest.utf8.distance(from: bodyStart, to: rest.endIndex) >= length else { break }
            let bodyEnd = rest.utf8.index(bodyStart, offsetBy: length)
            responses.append(RawHTTPResponse(status: status, headers: headers, body: String(rest[bodyStart..<bodyEnd])))
            rest = rest[bodyEnd...]
        }
        return responses
    }
}
