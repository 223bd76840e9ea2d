#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import Testing

/// A new TCP socket and the IPv4 loopback address with `port` (0: the kernel picks one at bind),
/// for the tests that need bare sockets.
func loopbackTCPSocket(port: Int) throws -> (descriptor: Int32, address: sockaddr_in) {
    #if canImport(Glibc)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let descriptor = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    try #require(descriptor >= 0, "socket() failed")
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = UInt16(port).bigEndian
    return (descriptor, address)
}

/// A new TCP socket, connected (when `connected`) to `port` on the IPv4 loopback address.
func loopbackConnect(port: Int) throws -> (descriptor: Int32, connected: Bool) {
    let endpoint = try loopbackTCPSocket(port: port)
    var address = endpoint.address
    let result = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(endpoint.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    return (endpoint.descriptor, result == 0)
}

/// A socket listening on a loopback port the kernel picked, and that port.
func loopbackListener() throws -> (descriptor: Int32, port: Int) {
    let endpoint = try loopbackTCPSocket(port: 0)
    var address = endpoint.address
    let bound = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(endpoint.descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
    }
    guard bound == 0, listen(endpoint.descriptor, 64) == 0 else {
        _ = closeDescriptor(endpoint.descriptor)
        throw ListenerFailure()
    }
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    _ = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(endpoint.descriptor, $0, &length) }
    }
    return (endpoint.descriptor, Int(UInt16(bigEndian: address.sin_port)))
}

struct ListenerFailure: Error {}

func closeDescriptor(_ descriptor: Int32) -> Int32 {
    #if canImport(Glibc)
    Glibc.close(descriptor)
    #else
    Darwin.close(descriptor)
    #endif
}
