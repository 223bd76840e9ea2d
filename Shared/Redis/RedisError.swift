public import ServiceKit

/// A Redis operation failed.
public enum RedisError: Error, Sendable, Equatable, CustomStringConvertible, DependencyFailure {
    /// The server could not be reached (refused, unreachable, connect timeout).
    case connectFailed(String)
    /// The connection broke or timed out during a command; the connection was discarded.
    case connectionLost(String)
    /// The server answered with an error reply (`ERR …`).
    case server(String)
    /// The client was closed.
    case closed

    public var description: String {
        switch self {
        case .connectFailed(let reason): "redis: cannot connect: \(reason)"
        case .connectionLost(let reason): "redis: connection lost: \(reason)"
        case .server(let message): "redis: \(message)"
        case .closed: "redis: client closed"
        }
    }

    public var reason: String {
        switch self {
        case .connectFailed(let reason), .connectionLost(let reason): reason
        case .server(let message): message
        case .closed: "client closed"
        }
    }
}
