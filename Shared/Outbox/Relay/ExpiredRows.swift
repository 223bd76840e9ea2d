/// A service's own table whose expired rows the relay's leader deletes along with the outbox's
/// and the inbox's (``OutboxRelaySettings/expiredRows``): refresh tokens long past their
/// expiry, idempotency records past their retention. One leader per service does it, in the
/// same bounded chunks and passes.
///
/// The three parts are SQL written by the service itself, never taken from input.
public struct ExpiredRows: Sendable, Equatable {
    /// The schema-qualified table, such as `users.refresh_tokens`.
    public var table: String
    /// The columns that identify a row, such as `id` or `user_id, key`.
    public var key: String
    /// The condition an expired row meets, such as `expires_at < now() - interval '1 day'`
    /// (an index on its column keeps each chunk cheap).
    public var condition: String

    /// Rows of `table` (identified by `key`) meeting `condition`.
    public init(table: String, key: String, condition: String) {
        self.table = table
        self.key = key
        self.condition = condition
    }
}
