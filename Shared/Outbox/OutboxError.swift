/// A message the outbox refuses at append time, inside the writer's transaction, because the
/// relay could never publish it. (Refusing early keeps the relay's per-key order: a row that can
/// never be delivered would otherwise sit ahead of later rows with the same key.)
public enum OutboxError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Larger than ``Outbox/maximumMessageBytes`` (key + value + headers).
    case messageTooLarge(bytes: Int, limit: Int)
    /// Not a legal Kafka topic name (1–249 of `[A-Za-z0-9._-]`).
    case invalidTopic(String)

    public var description: String {
        switch self {
        case .messageTooLarge(let bytes, let limit): "outbox message of \(bytes) bytes exceeds the \(limit)-byte limit"
        case .invalidTopic(let topic): "\"\(topic)\" is not a legal Kafka topic name"
        }
    }
}
