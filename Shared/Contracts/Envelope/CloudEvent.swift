import Foundation

/// An OrderFlow message as a CloudEvents 1.0 event in Kafka binary mode.
///
/// The event's attributes travel as Kafka headers (see ``headers``) and the record value is
/// the JSON payload (``data``). The Kafka key is the aggregate id, which is also ``subject``.
///
/// Build one from a contract message with ``init(_:source:id:time:correlationID:causationID:)``,
/// parse a consumed record with ``init(headers:data:)``, then ``decode(_:)`` the payload.
public struct CloudEvent: Sendable, Equatable {
    /// The CloudEvents specification version OrderFlow speaks.
    public static let specVersion = "1.0"
    /// The only payload media type OrderFlow uses.
    public static let jsonContentType = "application/json"

    /// Event id, a UUIDv7; consumers deduplicate on it.
    public var id: UUID
    /// The message type, for example `orderflow.orders.order_approved.v1`.
    public var type: String
    /// The producing service, for example `orders`.
    public var source: String
    /// When the message was created; transported with millisecond precision.
    public var time: Date
    /// The aggregate id as lower-case UUID text (also the Kafka key).
    public var subject: String?
    /// The payload's media type, `application/json`.
    public var dataContentType: String
    /// The saga id (or the id of the request that started the flow).
    public var correlationID: String?
    /// The id of the message that caused this one.
    public var causationID: String?
    /// W3C trace context.
    public var traceparent: String?
    /// W3C trace state.
    public var tracestate: String?
    /// The JSON payload.
    public var data: [UInt8]

    /// An event from its attributes and payload.
    public init(
        id: UUID,
        type: String,
        source: String,
        time: Date,
        subject: String?,
        dataContentType: String = CloudEvent.jsonContentType,
        correlationID: String? = nil,
        causationID: String? = nil,
        traceparent: String? = nil,
        tracestate: String? = nil,
        data: [UInt8]
    ) {
        self.id = id
        self.type = type
        self.source = source
        self.time = time
        self.subject = subject
        self.dataContentType = dataContentType
        self.correlationID = correlationID
        self.causationID = causationID
        self.traceparent = traceparent
        self.tracestate = tracestate
        self.data = data
    }

    /// The envelope for a contract message.
    ///
    /// `type` is `M.ceType`, `subject` the message's ``MessageContract/aggregateID`` as
    /// lower-case text, and `data` the message encoded with ``MessageCodec``.
    public init<M: MessageContract>(
        _ message: M,
        source: String,
        id: UUID = .v7(),
        time: Date = Date(),
        correlationID: String? = nil,
        causationID: String? = nil
    ) throws(ContractCodingError) {
        self.init(
            id: id,
            type: M.ceType,
            source: source,
            time: time,
            subject: message.aggregateID.uuidString.lowercased(),
            correlationID: correlationID,
            causationID: causationID,
            data: try MessageCodec.encode(message)
        )
    }

    /// Decodes the payload as `M`.
    ///
    /// - Throws: ``ContractCodingError/typeMismatch(expected:actual:)`` when ``type`` is not
    ///   `M.ceType`, ``ContractCodingError/decodingFailed(type:reason:)`` when the payload is
    ///   not a valid `M`.
    public func decode<M: MessageContract>(_ type: M.Type) throws(ContractCodingError) -> M {
        guard self.type == M.ceType else {
            throw .typeMismatch(expected: M.ceType, actual: self.type)
        }
        return try MessageCodec.decode(M.self, from: data)
    }
}
