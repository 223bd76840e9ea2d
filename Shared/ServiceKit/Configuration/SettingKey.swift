/// Names one configuration setting the way every source spells it.
///
/// A setting is read from, in order of precedence: a command-line flag (`--http-port 8081`),
/// an environment variable (`HTTP_PORT=8081`), then a default. Keys are dotted lower-case
/// paths (`http.port`); the environment variable and the flag are derived from the key so
/// that every error message can name both.
public struct SettingKey: Sendable, Hashable, CustomStringConvertible {
    /// The dotted key, for example `database.url`.
    public let path: String
    /// What a valid value looks like, shown in error messages (for example `a port number 1-65535`).
    public let expectation: String
    /// Whether the value is a secret that must never be echoed in errors or logs.
    public let isSecret: Bool

    /// Creates a key.
    /// - Parameters:
    ///   - path: Dotted lower-case path such as `http.port`.
    ///   - expectation: Human description of a valid value.
    ///   - isSecret: Set for passwords, keys and URLs that carry credentials.
    public init(_ path: String, expecting expectation: String, isSecret: Bool = false) {
        self.path = path
        self.expectation = expectation
        self.isSecret = isSecret
    }

    /// The environment variable that sets this key: `database.url` → `DATABASE_URL`.
    public var environmentVariable: String {
        path.split(separator: ".").map { $0.uppercased() }.joined(separator: "_")
    }

    /// The command-line flag that sets this key: `database.url` → `--database-url`.
    public var flag: String {
        "--" + path.split(separator: ".").joined(separator: "-")
    }

    public var description: String { environmentVariable }
}
