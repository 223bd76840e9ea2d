public import Contracts
public import Kafka
public import Logging
public import PostgresNIO

/// What a handler gets besides its message: the open transaction and the envelope.
public struct HandlerContext: Sendable {
    /// The connection inside the handler's transaction; everything done with it commits (or
    /// rolls back) together with the inbox record.
    public let connection: PostgresConnection
    /// The incoming envelope (`ce_id`, correlation and causation ids, time…).
    public let event: CloudEvent
    /// Where the message came from.
    public let source: KafkaMessage
    /// The service's outbox, for messages the handler emits.
    public let outbox: Outbox
    /// A logger carrying the message's type and id.
    public let logger: Logger
    let afterCommitActions: AfterCommitActions

    /// Creates a context (the ``InboxConsumer`` does; tests may too).
    public init(connection: PostgresConnection, event: CloudEvent, source: KafkaMessage, outbox: Outbox, logger: Logger) {
        self.init(connection: connection, event: event, source: source, outbox: outbox, logger: logger, afterCommitActions: AfterCommitActions())
    }

    init(connection: PostgresConnection, event: CloudEvent, source: KafkaMessage, outbox: Outbox, logger: Logger, afterCommitActions: AfterCommitActions) {
        self.connection = connection
        self.event = event
        self.source = source
        self.outbox = outbox
        self.logger = logger
        self.afterCommitActions = afterCommitActions
    }

    /// Runs `action` once the handler's transaction has committed (and not at all if it rolls
    /// back), before the offset is marked done: for side effects outside Postgres, such as a
    /// Redis publish, that must only follow committed state.
    public func afterCommit(_ action: @escaping @Sendable () async -> Void) {
        afterCommitActions.add(action)
    }

    /// Appends `message` to the outbox in this transaction, continuing the conversation: the
    /// correlation id is kept (or set to the incoming id when absent) and the causation id is
    /// the incoming message's id.
    @discardableResult
    public func append<M: MessageContract>(_ message: M, correlationID: String? = nil) async throws -> CloudEvent {
        try await outbox.append(
            message,
            correlationID: correlationID ?? event.correlationID ?? event.id.uuidString.lowercased(),
            causationID: event.id.uuidString.lowercased(),
            on: connection, logger: logger
        )
    }
}
