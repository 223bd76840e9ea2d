/// Why migrations refused to run. Every case stops startup with ``description``.
public enum MigrationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A file is not named `NNNN_description.sql`.
    case invalidFileName(String)
    /// Two files share a version number.
    case duplicateVersion(Int)
    /// The migrations directory (or a file in it) cannot be read.
    case directoryUnreadable(String)
    /// The schema name is not a plain lower-case identifier.
    case invalidSchema(String)
    /// An applied migration's file was edited after it ran.
    case checksumMismatch(version: Int, name: String, recorded: String, current: String)
    /// The database records a migration that no longer exists as a file.
    case unknownAppliedVersion(version: Int, name: String)
    /// A statement failed; `message` is Postgres's own error text.
    case statementFailed(version: Int, name: String, statement: Int, message: String)

    public var description: String {
        switch self {
        case .invalidFileName(let file):
            return "migration file \(file) is not named NNNN_description.sql"
        case .duplicateVersion(let version):
            return "two migration files have version \(version)"
        case .directoryUnreadable(let path):
            return "cannot read migrations at \(path)"
        case .invalidSchema(let schema):
            return "schema name \(schema) is not a plain identifier"
        case .checksumMismatch(let version, let name, let recorded, let current):
            return "migration \(name) (version \(version)) was edited after it was applied "
                + "(recorded checksum \(recorded.prefix(12))…, file now \(current.prefix(12))…); "
                + "add a new migration instead of editing an applied one"
        case .unknownAppliedVersion(let version, let name):
            return "the database has migration \(name) (version \(version)) applied but its file is missing"
        case .statementFailed(let version, let name, let statement, let message):
            return "migration \(name) (version \(version)) failed at statement \(statement): \(message)"
        }
    }
}
