import Logging
import Redis
import TestSupport
import Testing

/// A client for the redis-server `make test` starts.
enum RedisTestKit {
    static let logger = Logger(label: "redis-tests")

    static func client() throws -> RedisClient {
        let settings = try #require(RedisSettings(url: try StackEnvironment.value("ORDERFLOW_REDIS_URL")))
        return RedisClient(configuration: configuration(settings), logger: logger)
    }

    /// Generous timeouts for tests that are not about timeouts: at the start of `make test` many
    /// suites start processes at once, and a first reply took longer than the 2 s defaults there.
    static func configuration(_ settings: RedisSettings) -> RedisConfiguration {
        RedisConfiguration(settings: settings, connectTimeout: .seconds(30), commandTimeout: .seconds(30))
    }
}
