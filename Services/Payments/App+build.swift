import Auth
import Contracts
import Foundation
import Logging
import OpenAPIHummingbird
import Outbox
import Redis
import ServiceKit

/// Builds the `payments` service: wallets on a double-entry ledger, deposits, and the payment
/// participant of the sagas (authorize, void, refund), with injectable faults.
///
/// Settings beyond the common ones: `DATABASE_URL`, `KAFKA_BROKERS`, `JWT_JWKS_URL`; optional
/// `REDIS_URL` (refuse revoked tokens), `PAYMENTS_CURRENCY`, `PAYMENTS_STARTING_BALANCE_MINOR`,
/// `PAYMENTS_ORDER_LIMIT_MINOR`, `PAYMENTS_IDEMPOTENCY_RETENTION_HOURS`, `PAYMENTS_FAULT_*`, `JWT_ISSUER`, `JWT_AUDIENCE`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let payments = try PaymentsSettings.read(from: settings)
    let verifier = try AuthSettings.verifier(from: settings, logger: logger)
    let redis = try settings.optionalString(RedisSettings.urlKey).map { _ in
        RedisClient(configuration: RedisConfiguration(settings: try RedisSettings.read(from: settings)), logger: logger)
    }
    let authenticator = Authenticator(verifier: verifier, revocations: redis.map(RedisRevocationList.init(redis:)), logger: logger)
    let faults = FaultInjector(payments.faults, logger: logger)
    let ledger = Ledger(logger: logger)

    var (app, parts) = try ServiceApplication.dataService(
        common, schema: "payments", settings: settings, migrationsDirectory: Bundle.module.migrationsDirectory(),
        consumers: ["payments"],
        expiredRows: [ExpiredRows(
            table: "payments.idempotency_keys", key: "user_id, key",
            condition: "created_at < now() - make_interval(hours => \(payments.idempotencyRetentionHours))"
        )],
        logger: logger
    ) { router, parts in
        try WalletAPI(client: parts.database.client, ledger: ledger, faults: faults, logger: logger)
            .registerHandlers(on: router, configuration: ContractServer.configuration,
                              middlewares: ContractServer.middlewares(prechecks: WalletAPI.prechecks, gate: authenticator.gate(WalletAPI.access)))
    }
    var handlers = MessageHandlers()
    let wallets = WalletOpener(ledger: ledger, currency: payments.currency, startingBalanceMinor: payments.startingBalanceMinor)
    handlers.register(wallets)
    PaymentCommandHandlers(
        ledger: ledger, payments: PaymentStore(logger: logger), faults: faults, perOrderLimitMinor: payments.orderLimitMinor, wallets: wallets
    ).register(in: &handlers)
    try app.addConsumer("payments", topics: [.usersEvents, .paymentsCommands], handlers: handlers, parts: parts, logger: logger)
    if let redis { app.addServices(redis) }
    return app
}
