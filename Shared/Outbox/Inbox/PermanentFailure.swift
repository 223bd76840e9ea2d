/// Thrown by a handler for a message that can never succeed (a domain rule says no, the data
/// is inconsistent): the message goes to the dead-letter topic with `reason` instead of being
/// retried. Any other error counts as transient and is retried with backoff.
public struct PermanentFailure: Error, Sendable, Equatable, CustomStringConvertible {
    /// Why, in words an operator understands; stored in the `dlq_reason` header.
    public let reason: String

    /// Creates a permanent failure.
    public init(_ reason: String) {
        self.reason = reason
    }

    public var description: String { reason }
}
