import CRdKafka
public import ServiceKit

/// A librdkafka operation failed.
///
/// ``code`` is librdkafka's error name (for example `_MSG_TIMED_OUT`, `_TRANSPORT`,
/// `TOPIC_ALREADY_EXISTS`); ``message`` its human text.
public struct KafkaError: Error, Sendable, Equatable, CustomStringConvertible, DependencyFailure {
    /// librdkafka's error name.
    public let code: String
    /// librdkafka's human message (or ours, for errors raised by this module).
    public let message: String
    /// Whether the handle is unusable and must be recreated (idempotent-producer fatal errors).
    public let isFatal: Bool

    /// Creates an error.
    public init(code: String, message: String, isFatal: Bool = false) {
        self.code = code
        self.message = message
        self.isFatal = isFatal
    }

    /// The error librdkafka reports as `error`.
    init(_ error: rd_kafka_resp_err_t, isFatal: Bool = false) {
        self.init(code: String(cString: rd_kafka_err2name(error)), message: String(cString: rd_kafka_err2str(error)), isFatal: isFatal)
    }

    /// Takes ownership of an `rd_kafka_error_t` and destroys it.
    init(consuming error: OpaquePointer) {
        self.init(
            code: String(cString: rd_kafka_err2name(rd_kafka_error_code(error))),
            message: String(cString: rd_kafka_error_string(error)),
            isFatal: rd_kafka_error_is_fatal(error) != 0
        )
        rd_kafka_error_destroy(error)
    }

    public var description: String { "kafka error \(code): \(message)" }
    public var reason: String { message }

    /// The message was not acknowledged within `message.timeout.ms` (broker down or unreachable).
    public static let messageTimedOutCode = "_MSG_TIMED_OUT"
    /// The client is closed.
    public static let closed = KafkaError(code: "_CLOSED", message: "the client is closed")
}
