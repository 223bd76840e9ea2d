import Auth
import Contracts
import Foundation
import Logging
import OpenAPIHummingbird
import Outbox
import Redis
import ServiceKit

/// Builds the `notifications` service: events become per-user notifications, listed over HTTP
/// and streamed live (Server-Sent Events fanned out through Redis pub/sub). The HTTP routes are
/// the server stubs generated from the contract's `notifications` tag.
///
/// Settings beyond the common ones: `DATABASE_URL`, `KAFKA_BROKERS`, `REDIS_URL`,
/// `JWT_JWKS_URL`; optional `NOTIFICATIONS_HEARTBEAT_MS`, `NOTIFICATIONS_STREAMS_PER_USER`, `JWT_ISSUER`, `JWT_AUDIENCE`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let verifier = try AuthSettings.verifier(from: settings, logger: logger)
    let redis = RedisClient(configuration: RedisConfiguration(settings: try RedisSettings.read(from: settings)), logger: logger)
    let revocations = RedisRevocationList(redis: redis)
    let authenticator = Authenticator(verifier: verifier, revocations: revocations, logger: logger)
    let heartbeatKey = SettingKey("notifications.heartbeat.ms", expecting: "milliseconds 100-60000")
    let heartbeat = try settings.optionalParsed(heartbeatKey) { Int($0).flatMap { (100...60_000).contains($0) ? $0 : nil } } ?? 15_000
    let streamsKey = SettingKey("notifications.streams.per.user", expecting: "a number of streams 1-1000")
    let streamsPerUser = try settings.optionalParsed(streamsKey) { Int($0).flatMap { (1...1_000).contains($0) ? $0 : nil } } ?? 5
    let store = NotificationStore(logger: logger)

    var (app, parts) = try ServiceApplication.dataService(
        common, schema: "notifications", settings: settings, migrationsDirectory: Bundle.module.migrationsDirectory(),
        consumers: ["notifications"], logger: logger
    ) { router, parts in
        router.add(middleware: StreamHeadRefusal())
        try NotificationsAPI(client: parts.database.client, store: store, redis: redis, revocations: revocations,
                             tokenLeeway: verifier.leeway, heartbeat: .milliseconds(heartbeat),
                             streams: StreamQuota(perUser: streamsPerUser), logger: logger)
            .registerHandlers(on: router, configuration: ContractServer.configuration, middlewares: ContractServer.middlewares(
                prechecks: NotificationsAPI.prechecks, gate: authenticator.gate(NotificationsAPI.access)))
    }
    var handlers = MessageHandlers()
    NotificationHandlers(store: store, fanOut: NotificationFanOut(redis: redis, logger: logger)).register(in: &handlers)
    try app.addConsumer("notifications", topics: [.usersEvents, .ordersEvents, .paymentsEvents], handlers: handlers, parts: parts, logger: logger)
    app.addServices(redis)
    return app
}
