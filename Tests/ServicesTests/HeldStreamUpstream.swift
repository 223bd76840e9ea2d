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
/// stay open for more requests until the peer closes them or ``close()`` cuts them.
///
/// A GET for `path?` ``stalledQuery`` gets the head and the first bytes of a small `Content-Length`
/// body (``stalledBody``), and the rest only at ``release()``: an upstream that stalls mid-answer.
/// `path?` ``stalledUnavailableQuery`` does the same with status 503 (an answer a gateway retries).
///
/// For the load generator's tests two more paths answer at once: ``lengthPath`` with a
/// `Content-Length` body sent in two writes, and ``closePath`` with a short body and
/// `Connection: close`, after which it waits (up to 2 s) for the client to close.
final class HeldStreamUpstream: Sendable {
    let port: Int
    let path: String
    static let firstPart = #"{"items":[{"part":"first"}"#
    static let secondPart = #",{"part":"second"}]}"#
    static let lengthPath = "/length"
    static let lengthBody = String(repeating: "0123456789", count: 300)
    static let closePath = "/close"
    static let stalledQuery = "stalled"
    static let stalledUnavailableQuery = "stalled-503"
    static let stalledBody = #"{"items":[],"note":"this answer stalls after its first bytes"}"#
    private let listener: Int32
    private let released = NIOLockedValueBox(false)
    private let heldCount = NIOLockedValueBox(0)
    /// Set by ``close()``; whether the listener is still open; the accepted connections still open.
    private let lifecycle = NIOLockedValueBox((closing: false, listening: true, connections: Set<Int32>()))

    init(path: String) throws {
        (listener, port) = try loopbackListener()
        self.path = path
        Thread.detachNewThread { [self] in acceptLoop() }
    }

    /// How many GETs for `path` have arrived.
    var heldRequests: Int {
        heldCount.withLockedValue { $0 }
    }

    /// Lets every held answer (and every later one) send its second part and end.
    func release() {
        released.withLockedValue { $0 = true }
    }

    /// Stops accepting and cuts the open connections. Descriptors are shut down and closed only
    /// under the lifecycle lock, so a number reused meanwhile by another socket is never touched.
    func close() {
        let wasOpen = lifecycle.withLockedValue { state in
            guard !state.closing else { return false }
            state.closing = true
            if state.listening { _ = shutdown(listener, Int32(SHUT_RDWR)) }  // wakes a blocked accept() on Linux
            for connection in state.connections { _ = shutdown(connection, Int32(SHUT_RDWR)) }
            return true
        }
        #if canImport(Darwin)
        // There, shutting a listener down does not wake accept(); a connection does, and the
        // loop, seeing `closing`, ends.
        if wasOpen, let waker = try? loopbackConnect(port: port) { _ = closeDescriptor(waker.descriptor) }
        #else
        _ = wasOpen
        #endif
    }

    private func acceptLoop() {
        defer {
            lifecycle.withLockedValue { state in
                state.listening = false
                _ = closeDescriptor(listener)
            }
        }
        while true {
            let connection = accept(listener, nil, nil)
            if connection < 0, errno == EINTR { continue }
            guard connection >= 0 else { return }
            let admitted = lifecycle.withLockedValue { state in
                if state.closing { _ = closeDescriptor(connection) } else { state.connections.insert(connection) }
                return !state.closing
            }
            guard admitted else { return }
            Thread.detachNewThread { [self] in serve(connection) }
        }
    }

    private func serve(_ connection: Int32) {
        defer {
            lifecycle.withLockedValue { state in
                state.connections.remove(connection)
                _ = closeDescriptor(connection)
            }
        }
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
            if head.hasPrefix("GET \(Self.lengthPath) ") {
                let body = Array(Self.lengthBody.utf8)
                // Two writes, so that the end of the body can arrive in a later read.
                let start = "HTTP/1.1 200 OK\r\nContent-Length: \(body.count)\r\n\r\n" + String(decoding: body[..<1_000], as: UTF8.self)
                guard write(start, to: connection), write(String(decoding: body[1_000...], as: UTF8.self), to: connection) else { return }
                continue
            }
            if head.hasPrefix("GET \(Self.closePath) ") {
                guard write("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", to: connection) else { return }
                // The close comes from the client, which was told to (or, if it ignored that, 2 s
                // later): a request it still sends here is never answered.
                awaitPeerClose(connection, atMostSeconds: 2)
                return  // the deferred cleanup closes the connection
            }
            let stalledStatus = head.hasPrefix("GET \(path)?\(Self.stalledQuery) ") ? "200 OK"
                : head.hasPrefix("GET \(path)?\(Self.stalledUnavailableQuery) ") ? "503 Service Unavailable" : nil
            if let stalledStatus {
                let body = Self.stalledBody
                let start = "HTTP/1.1 \(stalledStatus)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n"
                guard write(start + body.prefix(10), to: connection) else { return }
                while !released.withLockedValue({ $0 }), !lifecycle.withLockedValue({ $0.closing }) { usleep(10_000) }
                guard write(String(body.dropFirst(10)), to: connection) else { return }
                continue
            }
            guard head.hasPrefix("GET \(path) ") || head.hasPrefix("GET \(path)?") else {
                guard write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", to: connection) else { return }
                continue
            }
            heldCount.withLockedValue { $0 += 1 }
            let start = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            guard write(start + Self.chunk(Self.firstPart), to: connection) else { return }
            while !released.withLockedValue({ $0 }), !lifecycle.withLockedValue({ $0.closing }) { usleep(10_000) }
            guard write(Self.chunk(Self.secondPart) + "0\r\n\r\n", to: connection) else { return }
        }
    }

    /// Reads and drops what `connection` sends until the peer closes it, `close()` cuts it, or
    /// `atMostSeconds` pass.
    private func awaitPeerClose(_ connection: Int32, atMostSeconds: Int) {
        var timeout = timeval(tv_sec: 0, tv_usec: 100_000)
        _ = setsockopt(connection, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        let end = ContinuousClock.now + .seconds(atMostSeconds)
        var scratch = [UInt8](repeating: 0, count: 4_096)
        while ContinuousClock.now < end, !lifecycle.withLockedValue({ $0.closing }) {
            let count = scratch.withUnsafeMutableBytes { recv(connection, $0.baseAddress, $0.count, 0) }
            if count == 0 || (count < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) { return }
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
