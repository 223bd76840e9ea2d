import Foundation
public import Logging
public import PostgresNIO

/// A service's Postgres pool plus the migrations to apply before it serves requests.
public struct ServiceDatabase: Sendable {
    /// The pooled client (a ServiceLifecycle `Service`: run it in the service group).
    public let client: PostgresClient
    /// The settings it was made from.
    public let settings: DatabaseSettings
    private let runner: MigrationRunner

    /// Creates the pool and loads the migrations in `migrationsDirectory` for `schema`, plus
    /// `additionalMigrations` that shared modules ship (the messaging tables, for example).
    public init(
        settings: DatabaseSettings, schema: String, migrationsDirectory: URL,
        additionalMigrations: [Migration] = [], logger: Logger
    ) throws {
        self.settings = settings
        self.client = PostgresClient(
            configuration: settings.url.clientConfiguration(maximumConnections: settings.maxConnections),
            backgroundLogger: logger
        )
        self.runner = try MigrationRunner(schema: schema, migrations: Migration.load(from: migrationsDirectory) + additionalMigrations)
    }

    /// Waits at most the startup timeout for Postgres to answer, then applies pending migrations
    /// (which may take as long as they need). Needs ``client`` to be running.
    @discardableResult
    public func migrate(logger: Logger) async throws -> MigrationRunner.Outcome {
        let client = self.client
        do {
            try await withTimeout(settings.startupTimeout) {
                let rows = try await client.query("SELECT 1 AS ok")
                for try await _ in rows {}
            }
        } catch is TimeoutError {
            throw StartupError.databaseUnreachable(
                host: settings.url.host, port: settings.url.port, timeout: settings.startupTimeout
            )
        }
        return try await runner.run(on: client, logger: logger)
    }
}

extension ServiceApplication {
    /// Runs the database pool with the application and applies migrations before the server starts.
    public mutating func addDatabase(_ database: ServiceDatabase, logger: Logger) {
        addServices(database.client)
        beforeServerStarts {
            let outcome = try await database.migrate(logger: logger)
            logger.info("migrations up to date", metadata: [
                "migrations.applied": "\(outcome.applied.count)",
                "migrations.already_applied": "\(outcome.alreadyApplied.count)",
            ])
        }
    }
}
