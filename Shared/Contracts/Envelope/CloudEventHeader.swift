/// One Kafka record header of a CloudEvent in binary mode: a name and its UTF-8 text value.
///
/// Kafka headers carry bytes; CloudEvents attributes are text, so the Kafka layer converts with
/// UTF-8 on both sides.
public struct CloudEventHeader: Sendable, Equatable {
    /// The header name, for example `ce_id` (case-sensitive).
    public var name: String
    /// The header value as text.
    public var value: String

    /// A header with a name and a text value.
    public init(name: String, value: String) {
        self.name = name
        self.value = value
    }
}

extension CloudEventHeader {
    /// The header names OrderFlow uses for CloudEvents 1.0 in Kafka binary mode.
    public enum Names {
        /// CloudEvents spec version; always ``CloudEvent/specVersion``.
        public static let specVersion = "ce_specversion"
        /// Event id (a UUIDv7).
        public static let id = "ce_id"
        /// Event type, the message's ``MessageContract/ceType``.
        public static let type = "ce_type"
        /// Producing service, for example `orders`.
        public static let source = "ce_source"
        /// Creation time, RFC 3339 in UTC with milliseconds.
        public static let time = "ce_time"
        /// The aggregate id (the Kafka key), lower-case UUID text.
        public static let subject = "ce_subject"
        /// The payload's media type (CloudEvents `datacontenttype` in Kafka binary mode).
        public static let contentType = "content-type"
        /// The saga id (or the id of the request that started a flow).
        public static let correlationID = "correlation_id"
        /// The id of the message that caused this one.
        public static let causationID = "causation_id"
        /// W3C trace context.
        public static let traceparent = "traceparent"
        /// W3C trace state.
        public static let tracestate = "tracestate"
    }
}
