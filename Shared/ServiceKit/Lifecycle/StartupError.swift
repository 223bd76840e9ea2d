/// A dependency could not be reached while the service was starting.
public enum StartupError: Error, Sendable, CustomStringConvertible {
    /// Postgres did not answer within the startup timeout.
    case databaseUnreachable(host: String, port: Int, timeout: Duration)

    public var description: String {
        switch self {
        case .databaseUnreachable(let host, let port, let timeout):
            return "could not reach Postgres at \(host):\(port) within \(timeout.milliseconds / 1000) s (DATABASE_URL); is it running?"
        }
    }

    /// A one-line description of any startup error (typed errors describe themselves).
    static func describe(_ error: any Error) -> String {
        switch error {
        case let error as StartupError: return error.description
        case let error as MigrationError: return error.description
        case let error as ConfigurationError: return error.message
        default: return String(describing: error)
        }
    }
}
