#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

/// A TCP port that accepts connections (the kernel completes the handshake into the backlog)
/// but never reads or answers: a real "slow upstream" for timeout tests.
final class SilentListener: @unchecked Sendable {
    // @unchecked: the descriptor is set once in init and closed once in close().
    let port: Int
    private var descriptor: Int32

    init() throws {
        let endpoint = try loopbackTCPSocket(port: 0)
        let descriptor = endpoint.descriptor
        var address = endpoint.address
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0, listen(descriptor, 64) == 0 else {
            _ = closeDescriptor(descriptor)
            throw ListenerFailure()
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    func close() {
        guard descriptor >= 0 else { return }
        _ = closeDescriptor(descriptor)
        descriptor = -1
    }
}

private struct ListenerFailure: Error {}

private func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}
