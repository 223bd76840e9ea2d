/// An unpublished outbox row, as the relay reads it: its id (the publishing order) and message.
struct OutboxRow: Sendable {
    var id: Int64
    var message: OutboxMessage
}
