import Foundation
import Kafka
import Logging
import ServiceKit

/// Builds the `notifications` service: migrations for the `notifications` schema, Postgres and Kafka readiness.
///
/// Settings beyond the common ones: `DATABASE_URL` (the `notifications` role), `KAFKA_BROKERS`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let databaseSettings = try DatabaseSettings.read(from: settings)
    let kafkaSettings = try KafkaSettings.read(from: settings)
    let database = try ServiceDatabase(
        settings: databaseSettings,
        schema: "notifications",
        migrationsDirectory: Bundle.module.migrationsDirectory(),
        logger: logger
    )
    let kafka = try KafkaMetadataCheck(settings: kafkaSettings)
    return .orderFlowService(common, database: database, checks: [kafka], logger: logger)
}
