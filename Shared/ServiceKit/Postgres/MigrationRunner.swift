public import Logging
public import PostgresNIO

/// Applies a service's migrations to its schema.
///
/// Everything happens in one transaction that first takes a transaction-scoped advisory lock
/// named after the schema, so concurrent instances starting together apply each file exactly
/// once: the first applies, the others wait and then find nothing to do. Applied files are
/// recorded in `<schema>.schema_migrations` with their SHA-256; a recorded file that changed,
/// or disappeared, stops startup.
public struct MigrationRunner: Sendable {
    /// The schema the migrations belong to (and where `schema_migrations` lives).
    public let schema: String
    /// The migrations, in version order.
    public let migrations: [Migration]

    /// What a run did.
    public struct Outcome: Sendable, Equatable {
        /// Versions applied by this run.
        public var applied: [Int]
        /// Versions that were already applied.
        public var alreadyApplied: [Int]
    }

    /// Creates a runner; `schema` must be a plain lower-case identifier.
    public init(schema: String, migrations: [Migration]) throws(MigrationError) {
        guard Self.isPlainIdentifier(schema) else { throw .invalidSchema(schema) }
        self.schema = schema
        self.migrations = migrations.sorted { $0.version < $1.version }
    }

    /// Whether `name` is a plain lower-case SQL identifier (letters, digits, `_`; not starting
    /// with a digit; at most 63 bytes), safe to splice into SQL text.
    public static func isPlainIdentifier(_ name: String) -> Bool {
        !name.isEmpty && name.utf8.count <= 63
            && name.utf8.allSatisfy { ($0 >= 97 && $0 <= 122) || ($0 >= 48 && $0 <= 57) || $0 == 95 }
            && !(name.utf8.first.map { $0 >= 48 && $0 <= 57 } ?? true)
    }

    /// Applies every pending migration through `client`.
    public func run(on client: PostgresClient, logger: Logger) async throws -> Outcome {
        do {
            return try await client.withTransaction(logger: logger) { connection in
                try await self.run(in: connection, logger: logger)
            }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    private func run(in connection: PostgresConnection, logger: Logger) async throws -> Outcome {
        let lockName = "orderflow.migrations.\(schema)"
        try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\(lockName)))", logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: "SET LOCAL search_path TO \(schema)"), logger: logger)
        try await connection.query(PostgresQuery(unsafeSQL: """
            CREATE TABLE IF NOT EXISTS \(schema).schema_migrations (
                version     integer PRIMARY KEY,
                name        text        NOT NULL,
                checksum    text        NOT NULL,
                applied_at  timestamptz NOT NULL DEFAULT now()
            )
            """), logger: logger)

        var recorded: [Int: (name: String, checksum: String)] = [:]
        let rows = try await connection.query(
            PostgresQuery(unsafeSQL: "SELECT version, name, checksum FROM \(schema).schema_migrations ORDER BY version"),
            logger: logger
        )
        for try await (version, name, checksum) in rows.decode((Int, String, String).self) {
            recorded[version] = (name, checksum)
        }

        let known = Dictionary(uniqueKeysWithValues: migrations.map { ($0.version, $0) })
        for (version, entry) in recorded.sorted(by: { $0.key < $1.key }) where known[version] == nil {
            throw MigrationError.unknownAppliedVersion(version: version, name: entry.name)
        }

        var outcome = Outcome(applied: [], alreadyApplied: [])
        for migration in migrations {
            if let entry = recorded[migration.version] {
                guard entry.checksum == migration.checksum else {
                    throw MigrationError.checksumMismatch(
                        version: migration.version, name: migration.name,
                        recorded: entry.checksum, current: migration.checksum
                    )
                }
                outcome.alreadyApplied.append(migration.version)
                continue
            }
            try await apply(migration, in: connection, logger: logger)
            outcome.applied.append(migration.version)
            logger.info("applied migration", metadata: ["migration": "\(migration.name)", "schema": "\(schema)"])
        }
        return outcome
    }

    private func apply(_ migration: Migration, in connection: PostgresConnection, logger: Logger) async throws {
        for (index, statement) in SQLScript.statements(in: migration.sql).enumerated() {
            do {
                try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
            } catch let error as PSQLError {
                throw MigrationError.statementFailed(
                    version: migration.version, name: migration.name, statement: index + 1,
                    message: error.serverInfo?[.message] ?? "connection error"
                )
            }
        }
        try await connection.query(
            PostgresQuery(unsafeSQL: "INSERT INTO \(schema).schema_migrations (version, name, checksum) VALUES ($1, $2, $3)",
                          binds: {
                              var binds = PostgresBindings()
                              binds.append(migration.version)
                              binds.append(migration.name)
                              binds.append(migration.checksum)
                              return binds
                          }()),
            logger: logger
        )
    }
}
