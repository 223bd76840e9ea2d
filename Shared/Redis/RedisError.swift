public import ServiceKit

/// A Redis operation failed.
public struct RedisError: Error, Sendable, CustomStringConvertible, DependencyFailure {
    /// What failed, in hiredis's or the server's words.
    public let message: String

    public var description: String { "redis error: \(message)" }
    public var reason: String { message }
}
