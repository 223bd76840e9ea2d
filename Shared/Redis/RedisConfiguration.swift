/// How a ``RedisClient`` connects.
public struct RedisConfiguration: Sendable, Equatable {
    /// Server address.
    public var settings: RedisSettings
    /// Connections (and blocking threads) in the pool.
    public var poolSize: Int
    /// Limit for establishing a connection.
    public var connectTimeout: Duration
    /// Limit for one command's (or pipeline's) send and receive.
    public var commandTimeout: Duration

    /// Creates a configuration.
    public init(settings: RedisSettings, poolSize: Int = 4, connectTimeout: Duration = .seconds(2), commandTimeout: Duration = .seconds(2)) {
        self.settings = settings
        self.poolSize = poolSize
        self.connectTimeout = connectTimeout
        self.commandTimeout = commandTimeout
    }
}
