import Foundation
import Kafka
import Logging
import ServiceKit

/// Builds the `orders` service: migrations for the `orders` schema, Postgres and Kafka readiness.
///
/// Settings beyond the common ones: `DATABASE_URL` (the `orders` role), `KAFKA_BROKERS`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let databaseSettings = try DatabaseSettings.read(from: settings)
    let kafkaSettings = try KafkaSettings.read(from: settings)
    let database = try ServiceDatabase(
        settings: databaseSettings,
        schema: "orders",
        migrationsDirectory: Bundle.module.migrationsDirectory(),
        logger: logger
    )
    let kafka = try KafkaMetadataCheck(settings: kafkaSettings)
    return .orderFlowService(common, database: database, checks: [kafka], logger: logger)
}
