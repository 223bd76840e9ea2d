/// How a service reaches its Postgres schema.
public struct DatabaseSettings: Sendable, Equatable {
    /// `DATABASE_URL`.
    public var url: DatabaseURL
    /// `DATABASE_STARTUP_TIMEOUT_MS`: how long startup waits for Postgres before giving up.
    public var startupTimeout: Duration
    /// `DATABASE_MAX_CONNECTIONS`: the pool size.
    public var maxConnections: Int

    /// `DATABASE_STARTUP_TIMEOUT_MS`.
    public static let startupTimeoutKey = SettingKey("database.startup.timeout.ms", expecting: "a positive number of milliseconds")
    /// `DATABASE_MAX_CONNECTIONS`.
    public static let maxConnectionsKey = SettingKey("database.max.connections", expecting: "an integer 1-500")

    /// Reads the database settings; `DATABASE_URL` is required.
    public static func read(from settings: Settings) throws(ConfigurationError) -> DatabaseSettings {
        let url = try settings.parsed(DatabaseURL.key, DatabaseURL.init)
        let timeout = try settings.optionalString(startupTimeoutKey) == nil
            ? .seconds(30) : settings.milliseconds(startupTimeoutKey)
        let maxConnections = try settings.optionalParsed(maxConnectionsKey) { raw in
            Int(raw).flatMap { (1...500).contains($0) ? $0 : nil }
        } ?? 10
        return DatabaseSettings(url: url, startupTimeout: timeout, maxConnections: maxConnections)
    }
}
