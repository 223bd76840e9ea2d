public import PostgresNIO

/// The SQLSTATE of a failed statement, looking through `withTransaction`'s wrapper.
public enum PostgresErrorCode {
    /// `23505`: a unique constraint or index refused the row.
    public static let uniqueViolation = "23505"
    /// `23514`: a CHECK constraint refused the row.
    public static let checkViolation = "23514"
    /// `40001`: the transaction lost a serialization race and may be retried.
    public static let serializationFailure = "40001"

    /// The SQLSTATE the server reported for `error`, if it is a server error.
    public static func sqlState(of error: any Error) -> String? {
        if let transaction = error as? PostgresTransactionError {
            return transaction.closureError.flatMap(sqlState(of:)) ?? transaction.commitError.flatMap(sqlState(of:))
        }
        return (error as? PSQLError)?.serverInfo?[.sqlState]
    }

    /// The constraint a server error names, if any.
    public static func constraint(of error: any Error) -> String? {
        if let transaction = error as? PostgresTransactionError {
            return transaction.closureError.flatMap(constraint(of:)) ?? transaction.commitError.flatMap(constraint(of:))
        }
        return (error as? PSQLError)?.serverInfo?[.constraintName]
    }
}
