public import Contracts
public import Foundation
import Instrumentation
public import Logging
public import PostgresNIO
public import ServiceKit
import ServiceContextModule

/// Appends messages to `<schema>.outbox` inside the caller's transaction.
///
/// The rule that keeps one key's messages in order: append only after your transaction has
/// locked the aggregate the key names (you just changed it, so it has). Then, for one key, the
/// outbox id order is the commit order, and the relay publishes in id order.
///
/// ```swift
/// try await client.withTransaction(logger: logger) { connection in
///     try await connection.query("UPDATE orders.orders SET status = 'approved' WHERE id = \(id)", logger: logger)
///     try await outbox.append(OrderApproved(...), on: connection, logger: logger)
/// }
/// ```
public struct Outbox: Sendable {
    /// The schema whose `outbox` table this appends to.
    public let schema: String
    /// `ce_source` of the events this service emits (its name).
    public let source: String

    /// Creates an outbox for `schema` (a plain lower-case identifier).
    public init(schema: String, source: String) throws(MigrationError) {
        guard MigrationRunner.isPlainIdentifier(schema) else { throw .invalidSchema(schema) }
        self.schema = schema
        self.source = source
    }

    /// Appends a contract message as a CloudEvent on its topic, carrying the current trace
    /// context (`traceparent`), and returns the envelope it stored.
    @discardableResult
    /// - Parameter id: The `ce_id`; a saga orchestrator chooses its command ids.
    public func append<M: MessageContract>(
        _ message: M, id: UUID = .v7(), correlationID: String? = nil, causationID: String? = nil,
        on connection: PostgresConnection, logger: Logger
    ) async throws -> CloudEvent {
        var event = try CloudEvent(message, source: source, id: id, correlationID: correlationID, causationID: causationID)
        var trace: [String: String] = [:]
        InstrumentationSystem.instrument.inject(ServiceContext.current ?? .topLevel, into: &trace, using: DictionaryInjector())
        event.traceparent = trace["traceparent"]
        event.tracestate = trace["tracestate"]
        try await append(OutboxMessage(event, topic: M.topic.rawValue), on: connection, logger: logger)
        return event
    }

    /// The largest message (key + value + headers) the outbox accepts: below the brokers'
    /// default `message.max.bytes` (1 MB) with room for the batch overhead.
    public static let maximumMessageBytes = 900_000

    /// Appends a raw message; throws ``OutboxError`` for one the relay could never publish.
    public func append(_ message: OutboxMessage, on connection: PostgresConnection, logger: Logger) async throws {
        try Self.validate(message)
        let headers = try HeaderCoding.encode(message.headers)
        let payload = message.payload.map { ByteBuffer(bytes: $0) }
        try await connection.query("""
            INSERT INTO \(unescaped: schema).outbox (message_id, topic, message_key, headers, payload)
            VALUES (\(message.id), \(message.topic), \(message.key), \(headers)::jsonb, \(payload))
            """, logger: logger)
    }
}

extension Outbox {
    /// Publishes an appended message again, unchanged (same `ce_id`, so consumers' inboxes
    /// recognise it). A published row moves to a fresh id, unpublished, and the relay picks it
    /// up on its next poll; a row not yet published stays where it is (it goes out anyway, and
    /// moving it would put it behind later messages of its key). A fresh id, not
    /// `published_at = NULL` in place, because the relay does not look back below the ids it has
    /// settled (ADR 0010). Returns false when the row is gone (pruned after the retention period).
    ///
    /// Requeue a message from the transaction that owns its aggregate's lock (a saga's retry
    /// holds the saga row), so two requeues of one message never race.
    public func requeue(messageID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let rows = try await connection.query("""
            WITH old AS (DELETE FROM \(unescaped: schema).outbox WHERE message_id = \(messageID) AND published_at IS NOT NULL
                         RETURNING message_id, topic, message_key, headers, payload),
                 moved AS (INSERT INTO \(unescaped: schema).outbox (message_id, topic, message_key, headers, payload)
                           SELECT message_id, topic, message_key, headers, payload FROM old RETURNING 1)
            SELECT 1 FROM moved
            UNION ALL
            SELECT 1 FROM \(unescaped: schema).outbox WHERE message_id = \(messageID) AND published_at IS NULL
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    static func validate(_ message: OutboxMessage) throws(OutboxError) {
        let topic = message.topic.utf8
        let legal = (1...249).contains(topic.count) && topic.allSatisfy { byte in
            (byte >= 97 && byte <= 122) || (byte >= 65 && byte <= 90) || (byte >= 48 && byte <= 57)
                || byte == 46 || byte == 95 || byte == 45
        }
        guard legal else { throw .invalidTopic(message.topic) }
        let size = (message.key?.utf8.count ?? 0) + (message.payload?.count ?? 0)
            + message.headers.reduce(0) { $0 + $1.name.utf8.count + $1.value.utf8.count }
        guard size <= maximumMessageBytes else { throw .messageTooLarge(bytes: size, limit: maximumMessageBytes) }
    }
}

private struct DictionaryInjector: Injector {
    func inject(_ value: String, forKey key: String, into carrier: inout [String: String]) {
        carrier[key] = value
    }
}
