public import Configuration
import Foundation

/// Typed access to configuration with errors that name the variable.
///
/// Wraps a swift-configuration `ConfigReader` whose providers are, in precedence order:
/// command-line flags, environment variables, then the defaults passed in.
public struct Settings: Sendable {
    private let reader: ConfigReader

    /// Creates settings over an existing reader (tests use an in-memory provider).
    public init(reader: ConfigReader) {
        self.reader = reader
    }

    /// Settings from the process: flags first, then the environment, then `defaults`.
    /// - Parameters:
    ///   - arguments: Command-line arguments (`CommandLine.arguments` by default).
    ///   - environment: Environment variables (the process's by default).
    ///   - defaults: Fallback values keyed by ``SettingKey/path``.
    public init(
        arguments: [String] = CommandLine.arguments,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        defaults: [String: String] = [:]
    ) {
        var defaultValues: [AbsoluteConfigKey: ConfigValue] = [:]
        for (path, value) in defaults {
            defaultValues[AbsoluteConfigKey(path.split(separator: ".").map(String.init))] = .init(.string(value), isSecret: false)
        }
        self.reader = ConfigReader(providers: [
            CommandLineArgumentsProvider(arguments: arguments),
            EnvironmentVariablesProvider(environmentVariables: environment),
            InMemoryProvider(name: "defaults", values: defaultValues),
        ])
    }

    /// The raw string for `key`, or nil when no source sets it. Empty strings count as unset.
    public func optionalString(_ key: SettingKey) -> String? {
        guard let value = reader.string(forKey: ConfigKey(key.path), isSecret: key.isSecret) else { return nil }
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        return trimmed.isEmpty ? nil : trimmed
    }

    /// The string for `key`; throws when it is missing.
    public func string(_ key: SettingKey) throws(ConfigurationError) -> String {
        guard let value = optionalString(key) else { throw ConfigurationError(key: key, problem: .missing) }
        return value
    }

    /// Parses the value of `key` with `parse`, which returns nil for an invalid value.
    public func parsed<Value>(_ key: SettingKey, _ parse: (String) -> Value?) throws(ConfigurationError) -> Value {
        let raw = try string(key)
        guard let value = parse(raw) else { throw invalid(key, raw) }
        return value
    }

    /// Like ``parsed(_:_:)`` but nil when the key is unset.
    public func optionalParsed<Value>(_ key: SettingKey, _ parse: (String) -> Value?) throws(ConfigurationError) -> Value? {
        guard let raw = optionalString(key) else { return nil }
        guard let value = parse(raw) else { throw invalid(key, raw) }
        return value
    }

    /// A TCP port (1-65535).
    public func port(_ key: SettingKey) throws(ConfigurationError) -> Int {
        try parsed(key) { raw in Int(raw).flatMap { (1...65_535).contains($0) ? $0 : nil } }
    }

    /// A positive duration given in milliseconds.
    public func milliseconds(_ key: SettingKey) throws(ConfigurationError) -> Duration {
        try parsed(key) { raw in Int(raw).flatMap { $0 > 0 ? .milliseconds($0) : nil } }
    }

    private func invalid(_ key: SettingKey, _ raw: String) -> ConfigurationError {
        ConfigurationError(key: key, problem: .invalid(key.isSecret ? Redaction.redactCredentials(in: raw) : raw))
    }
}
