public import Contracts

/// Handles one contract message type inside the inbox transaction.
public protocol MessageHandler: Sendable {
    /// The message type handled.
    associatedtype Message: MessageContract
    /// Applies the message. Throw ``PermanentFailure`` for a message that can never succeed;
    /// any other error is retried.
    func handle(_ message: Message, context: HandlerContext) async throws
}

/// The handlers of one consumer, by `ce_type`.
///
/// A message of a type in ``ContractCatalog`` with no handler here is skipped (the consumer
/// does not care about it); a type missing from the catalog is dead-lettered.
public struct MessageHandlers: Sendable {
    /// A decoded message, ready to run in a transaction.
    typealias Prepared = @Sendable (HandlerContext) async throws -> Void
    /// Decodes an envelope for its handler (throws ``ContractCodingError``; untyped because
    /// Swift 6.3's SILGen crashes on a typed-throws closure here).
    typealias Entry = @Sendable (CloudEvent) throws -> Prepared

    private var entries: [String: Entry] = [:]

    /// An empty set.
    public init() {}

    /// Registers `handler` for its message type (replacing an earlier one).
    public mutating func register<H: MessageHandler>(_ handler: H) {
        on(H.Message.self) { message, context in try await handler.handle(message, context: context) }
    }

    /// Registers a closure for `type` (replacing an earlier one).
    public mutating func on<M: MessageContract>(
        _ type: M.Type, _ body: @escaping @Sendable (M, HandlerContext) async throws -> Void
    ) {
        entries[M.ceType] = { event in
            let message = try event.decode(M.self)
            return { context in try await body(message, context) }
        }
    }

    /// The `ce_type`s handled.
    public var types: [String] { entries.keys.sorted() }

    func entry(for type: String) -> Entry? { entries[type] }
}
