#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import NIOConcurrencyHelpers

/// A loopback listener standing in for an upstream service, for the gateway's streamed answers:
/// a GET for `path` is answered with a chunked body whose first part goes out at once and whose
/// second part and end wait for ``release()``; any other request gets an empty 404. Connections
/// stay open for more requests until the peer closes them.
final class HeldStreamUpstream: Sendable {
    let port: Int
    let path: String
    static let firstPart = #"{"items":[{"part":"first"}"#
    static let secondPart = #",{"part":"second"}]}"#
    private let listener: Int32
    private let released = NIOLockedValueBox(false)

    init(path: String) throws {
        (listener, port) = try loopbackListener()
        self.path = path
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// Lets every held answer (and every later one) send its second part and end.
    func release() {
        released.withLockedValue { $0 = true }
    }

    /// Stops accepting; connections already open end when their peers close them.
    func close() {
        _ = shutdown(listener, Int32(SHUT_RDWR))
        _ = closeDescriptor(listener)
    }

    private func acceptLoop() {
        while true {
            let connection = accept(listener, nil, nil)
            guard connection >= 0 else { return }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer { _ = closeDescriptor(connection) }
        var pending = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 4_096)
        while true {
            guard let headEnd = pending.firstRange(of: Array("\r\n\r\n".utf8)) else {
                let count = chunk.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
                guard count > 0 else { return }
                pending.append(contentsOf: chunk[0..<count])
                continue
            }
            let head = String(decoding: pending[..<headEnd.lowerBound], as: UTF8.self)
            pending.removeSubrange(..<headEnd.upperBound)  // GETs carry no body
            guard head.hasPrefix("GET \(path) ") || head.hasPrefix("GET \(path)?") else {
                guard write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", to: connection) else { return }
                continue
            }
            let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            guard write(start + Self.chunk(Self.firstPart), to: connection) else { return }
            while !released.withLockedValue({ $0 }) { usleep(10_000) }
            guard write(Self.chunk(Self.secondPart) + "0\r\n\r\n", to: connection) else { return }
        }
    }

    private static func chunk(_ text: String) -> String {
        String(text.utf8.count, radix: 16) + "\r\n" + text + "\r\n"
    }

    private func write(_ text: String, to connection: Int32) -> Bool {
        let bytes = Array(text.utf8)
        return bytes.withUnsafeBytes { send(connection, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) } == bytes.count
    }
}
