public import Logging
public import PostgresNIO

/// A transaction that Postgres ended with a rollback although `COMMIT` was sent: a statement
/// inside it failed and the code that ran it caught the error and went on. Nothing was written.
public struct TransactionRolledBack: Error, Sendable, Equatable, CustomStringConvertible {
    /// Creates the error.
    public init() {}

    public var description: String {
        "the transaction was rolled back at COMMIT: a statement in it failed and its error was caught"
    }
}

/// What a transaction may do and see.
public enum TransactionAccess: Sendable {
    /// Reads and writes at the default isolation (READ COMMITTED: each statement sees what was
    /// committed when it began).
    case readWrite
    /// Reads only, every statement seeing the same snapshot (REPEATABLE READ READ ONLY): for an
    /// answer assembled from several statements that must agree with one another.
    case readOnlySnapshot
}

extension PostgresConnection {
    /// Runs `body` in a transaction and commits it, or rolls it back when `body` throws (then
    /// `body`'s own error is rethrown, unwrapped).
    ///
    /// Unlike `withTransaction`, a transaction that Postgres had already aborted — a failed
    /// statement whose error `body` caught — does not pass as committed: `COMMIT` then answers
    /// `ROLLBACK`, and this throws ``TransactionRolledBack``. That check rides on the `COMMIT`
    /// itself, so it costs no extra round trip.
    ///
    /// `body` must not end the transaction itself (`COMMIT`, `ROLLBACK`): the final `COMMIT`
    /// would then answer `COMMIT` with only a warning. If the `ROLLBACK` after a thrown error
    /// fails, the connection is closed, so the pool never hands out one still inside the
    /// transaction. `access` chooses the transaction's mode (``TransactionAccess``).
    public func withCheckedTransaction<Result>(
        logger: Logger,
        access: TransactionAccess = .readWrite,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        switch access {
        case .readWrite: try await query("BEGIN", logger: logger)
        case .readOnlySnapshot: try await query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", logger: logger)
        }
        let result: Result
        do {
            result = try await body(self)
        } catch {
            do {
                try await query("ROLLBACK", logger: logger)
            } catch let rollbackFailure {
                logger.warning("ROLLBACK failed; closing the connection", metadata: ["error": "\(String(reflecting: rollbackFailure))"])
                try? await close()
            }
            throw error
        }
        let commit: EventLoopFuture<PostgresQueryResult> = query("COMMIT", logger: logger)
        guard try await commit.get().metadata.command == "COMMIT" else { throw TransactionRolledBack() }
        return result
    }
}

extension PostgresClient {
    /// ``PostgresNIO/PostgresConnection/withCheckedTransaction(logger:access:isolation:_:)`` on a
    /// pooled connection.
    public func withCheckedTransaction<Result>(
        logger: Logger,
        access: TransactionAccess = .readWrite,
        isolation: isolated (any Actor)? = #isolation,
        _ body: (PostgresConnection) async throws -> sending Result
    ) async throws -> sending Result {
        try await withConnection(isolation: isolation) { connection in
            try await connection.withCheckedTransaction(logger: logger, access: access, isolation: isolation, body)
        }
    }
}
