public import Logging
public import PostgresNIO

/// A transaction-scoped advisory lock on one key of a namespace (`pg_advisory_xact_lock` with
/// two `hashtext` keys): it serialises the transactions that take it on the same key, and is
/// released when the transaction ends. Two different keys may share a hash, which only makes
/// them wait for each other.
public enum TransactionLock {
    /// Waits until this transaction holds the lock of `key` in `namespace`.
    public static func take(_ namespace: String, key: String, on connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(namespace)), hashtext(\(key)))", logger: logger)
    }
}
