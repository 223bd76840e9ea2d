/// A configuration value is missing or invalid. Startup stops with ``message``, one line
/// that names the variable and says what was expected.
public struct ConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The setting at fault.
    public let key: SettingKey
    /// What was wrong.
    public let problem: Problem

    /// The ways a value can be wrong.
    public enum Problem: Sendable, Equatable {
        /// No source provided a value and there is no default.
        case missing
        /// A value was provided but could not be used; the payload is the (redacted) value.
        case invalid(String)
    }

    /// Creates an error for `key`.
    public init(key: SettingKey, problem: Problem) {
        self.key = key
        self.problem = problem
    }

    /// One human line, for example:
    /// `configuration error: DATABASE_URL (or --database-url) is missing; expected postgres://user:password@host:port/database`.
    public var message: String {
        let name = "\(key.environmentVariable) (or \(key.flag))"
        switch problem {
        case .missing:
            return "configuration error: \(name) is missing; expected \(key.expectation)"
        case .invalid(let value):
            return "configuration error: \(name) is invalid: got \"\(value)\"; expected \(key.expectation)"
        }
    }

    public var description: String { message }
}
