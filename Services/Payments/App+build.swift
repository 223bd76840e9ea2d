import Foundation
import Logging
import Outbox
import ServiceKit

/// Builds the `payments` service: the `payments` schema's migrations (plus the messaging tables),
/// Postgres and Kafka readiness, its topics and its outbox relay.
///
/// Settings beyond the common ones: `DATABASE_URL` (the `payments` role), `KAFKA_BROKERS`; see
/// `ServiceApplication.dataService` for the optional ones.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let (app, _) = try ServiceApplication.dataService(
        common, schema: "payments", settings: settings,
        migrationsDirectory: Bundle.module.migrationsDirectory(), logger: logger
    )
    return app
}
