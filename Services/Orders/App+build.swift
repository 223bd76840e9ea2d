import Auth
import Contracts
import Foundation
import Logging
import OpenAPIHummingbird
import Outbox
import Redis
import Sagas
import ServiceKit

/// Builds the `orders` service: the catalogue, orders, and the saga orchestrator (PlaceOrder,
/// CancelOrder) with its reply consumer and deadline scanner.
///
/// Settings beyond the common ones: `DATABASE_URL`, `KAFKA_BROKERS`, `JWT_JWKS_URL`; optional
/// `REDIS_URL` (refuse revoked tokens), `SAGA_STEP_TIMEOUT_MS`, `SAGA_STEP_ATTEMPTS`,
/// `SAGA_DEADLINE_SCAN_MS`, `JWT_ISSUER`, `JWT_AUDIENCE`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let sagaSettings = try OrdersSettings.read(from: settings)
    let verifier = try AuthSettings.verifier(from: settings, logger: logger)
    let redis = try settings.optionalString(RedisSettings.urlKey).map { _ in
        RedisClient(configuration: RedisConfiguration(settings: try RedisSettings.read(from: settings)), logger: logger)
    }
    let authenticator = Authenticator(verifier: verifier, revocations: redis.map(RedisRevocationList.init(redis:)), logger: logger)
    let orderStore = OrderStore(logger: logger)
    func orchestrator(_ parts: DataServiceParts) -> SagaOrchestrator {
        SagaOrchestrator(sagas: SagaStore(logger: logger), orders: orderStore, stock: StockStore(logger: logger),
                         outbox: parts.messaging.outbox, timing: sagaSettings.timing, logger: logger)
    }

    var (app, parts) = try ServiceApplication.dataService(
        common, schema: "orders", settings: settings, migrationsDirectory: Bundle.module.migrationsDirectory(),
        consumers: ["orders"], logger: logger
    ) { router, parts in
        try OrdersAPI(client: parts.database.client, orders: orderStore, orchestrator: orchestrator(parts), logger: logger)
            .registerHandlers(on: router, configuration: ContractServer.configuration,
                              middlewares: ContractServer.middlewares(prechecks: OrdersAPI.prechecks, gate: authenticator.gate(OrdersAPI.access)))
    }
    let orchestrator = orchestrator(parts)
    SagaTally.registerSeries()
    var handlers = MessageHandlers()
    SagaReplyHandlers(orchestrator: orchestrator).register(in: &handlers)
    try app.addConsumer("orders", topics: [.sagaReplies], handlers: handlers, parts: parts, logger: logger)
    app.addServiceAfterMigrations(
        SagaDeadlineService(client: parts.database.client, orchestrator: orchestrator, interval: sagaSettings.deadlineScan, logger: logger), parts: parts
    )
    if let redis { app.addServices(redis) }
    return app
}

/// What orders reads beyond the common and data-service settings.
struct OrdersSettings: Sendable {
    var timing: SagaTiming
    var deadlineScan: Duration

    static let stepTimeoutKey = SettingKey("saga.step.timeout.ms", expecting: "milliseconds 100-600000")
    static let attemptsKey = SettingKey("saga.step.attempts", expecting: "an integer 1-20")
    static let scanKey = SettingKey("saga.deadline.scan.ms", expecting: "milliseconds 50-60000")

    static func read(from settings: Settings) throws(ConfigurationError) -> OrdersSettings {
        let timeout = try settings.optionalParsed(stepTimeoutKey) { Int($0).flatMap { (100...600_000).contains($0) ? $0 : nil } } ?? 10_000
        let attempts = try settings.optionalParsed(attemptsKey) { Int($0).flatMap { (1...20).contains($0) ? $0 : nil } } ?? 3
        let scan = try settings.optionalParsed(scanKey) { Int($0).flatMap { (50...60_000).contains($0) ? $0 : nil } } ?? 500
        return OrdersSettings(
            timing: SagaTiming(stepTimeout: .milliseconds(timeout), retry: SagaRetryPolicy(maximumAttempts: attempts, maximumTimeout: .milliseconds(max(timeout, 60_000)))),
            deadlineScan: .milliseconds(scan)
        )
    }
}
