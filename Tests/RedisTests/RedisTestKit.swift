import Logging
import Redis
import TestSupport
import Testing

/// A client for the redis-server `make test` starts.
enum RedisTestKit {
    static let logger = Logger(label: "redis-tests")

    static func client() throws -> RedisClient {
        let settings = try #require(RedisSettings(url: try StackEnvironment.value("ORDERFLOW_REDIS_URL")))
        return RedisClient(configuration: RedisConfiguration(settings: settings), logger: logger)
    }
}
