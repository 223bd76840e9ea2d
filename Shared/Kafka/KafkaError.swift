public import ServiceKit

/// A librdkafka call failed.
public struct KafkaError: Error, Sendable, CustomStringConvertible, DependencyFailure {
    /// librdkafka's error name, for example `_TRANSPORT` or `_TIMED_OUT`.
    public let code: String
    /// librdkafka's human message.
    public let message: String

    public var description: String { "kafka error \(code): \(message)" }

    /// Readiness reports show librdkafka's own short message (no internals of ours).
    public var reason: String { message }
}
