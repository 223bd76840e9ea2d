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
        (descriptor, port) = try loopbackListener()
    }

    func close() {
        guard descriptor >= 0 else { return }
        _ = closeDescriptor(descriptor)
        descriptor = -1
    }
}
