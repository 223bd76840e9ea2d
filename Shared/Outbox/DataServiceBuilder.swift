public import Foundation
public import Hummingbird
import Kafka
public import Logging
public import ServiceKit

extension ServiceApplication {
    /// Builds a service that owns a Postgres schema and talks through Kafka: its pool and
    /// migrations (its own plus the messaging tables), readiness on Postgres and Kafka, the
    /// topics it needs, and its outbox relay.
    ///
    /// Settings beyond the common ones: `DATABASE_URL`, `KAFKA_BROKERS`, and the optional
    /// `DATABASE_*`, `OUTBOX_*`, `KAFKA_TOPIC_PARTITIONS`, `KAFKA_REPLICATION_FACTOR`.
    /// - Parameter routes: Adds the service's routes, given its database and messaging.
    /// - Returns: The application, and the database and messaging its handlers use.
    public static func dataService(
        _ common: ServiceSettings, schema: String, settings: Settings, migrationsDirectory: URL,
        consumers: [String] = [], expiredRows: [ExpiredRows] = [], logger: Logger,
        routes: (Router<AppRequestContext>, DataServiceParts) throws -> Void = { _, _ in }
    ) throws -> (ServiceApplication, DataServiceParts) {
        let databaseSettings = try DatabaseSettings.read(from: settings)
        let kafkaSettings = try KafkaSettings.read(from: settings)
        let messaging = try MessagingBackbone(
            service: common.service, schema: schema, settings: settings,
            database: databaseSettings, kafka: kafkaSettings, expiredRows: expiredRows, logger: logger
        )
        let database = try ServiceDatabase(
            settings: databaseSettings, schema: schema, migrationsDirectory: migrationsDirectory,
            additionalMigrations: messaging.migrations, logger: logger
        )
        let kafka = try KafkaMetadataCheck(settings: kafkaSettings)
        let parts = DataServiceParts(database: database, messaging: messaging)
        var app = try ServiceApplication.orderFlowService(common, database: database, checks: [kafka], logger: logger) { router in
            try routes(router, parts)
        }
        app.addMessaging(messaging, consumers: consumers, logger: logger)
        return (app, parts)
    }
}

/// What a data service's routes and handlers work with.
public struct DataServiceParts: Sendable {
    /// The service's database (its pool is `database.client`).
    public let database: ServiceDatabase
    /// Its outbox, relay and Kafka settings.
    public let messaging: MessagingBackbone
}
