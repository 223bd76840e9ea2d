/// How a ``RedisClient`` connects.
public struct RedisConfiguration: Sendable, Equatable {
    /// Server address.
    public var settings: RedisSettings
    /// Limit for establishing a connection.
    public var connectTimeout: Duration
    /// Limit for one command's (or pipeline's) reply; past it the connection is dropped.
    public var commandTimeout: Duration

    /// Creates a configuration.
    public init(settings: RedisSettings, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(2)) {
        self.settings = settings
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }
}
