import Logging
import Redis
import ServiceKit

/// Builds the gateway. It owns no database; Redis backs its rate limits, so Redis is its
/// readiness dependency.
///
/// Settings beyond the common ones: `REDIS_URL`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let redis = try RedisSettings.read(from: settings)
    return .orderFlowService(common, database: nil, checks: [RedisPingCheck(settings: redis)], logger: logger)
}
