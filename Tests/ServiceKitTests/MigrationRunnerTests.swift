import Foundation
import PostgresNIO
@testable import ServiceKit
import Testing

/// The migrations runner against the real Postgres that `make test` starts.
@Suite("Migrations runner (real Postgres)")
struct MigrationRunnerTests {
    let admin: DatabaseURL
    let schema = TestStack.uniqueSchema("mig")

    init() throws {
        admin = try TestStack.adminURL()
    }

    private var first: Migration { get throws { try Migration(fileName: "0001_create_items.sql", sql: "CREATE TABLE items (id integer PRIMARY KEY, label text NOT NULL);") } }
    private var second: Migration { get throws { try Migration(fileName: "0002_seed.sql", sql: "ALTER TABLE items ADD COLUMN note text;\nINSERT INTO items (id, label) VALUES (1, 'a;b');") } }

    private func withSchema<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let schema = self.schema
        return try await TestStack.withClient(admin) { client in
            try await client.query(PostgresQuery(unsafeSQL: "CREATE SCHEMA \(schema)"))
            do {
                let result = try await body(client)
                try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                return result
            } catch {
                _ = try? await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \(schema) CASCADE"))
                throw error
            }
        }
    }

    private func count(_ client: PostgresClient, _ sql: String) async throws -> Int {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql))
        for try await (value) in rows.decode(Int.self) { return value }
        return -1
    }

    @Test("applies files in version order, whatever order they are given in, and records them")
    func appliesInOrder() async throws {
        let migrations = [try second, try first]
        let schema = self.schema
        try await withSchema { client in
            let outcome = try await MigrationRunner(schema: schema, migrations: migrations).run(on: client, logger: TestStack.logger)
            #expect(outcome.applied == [1, 2])
            #expect(try await count(client, "SELECT count(*)::int FROM \(schema).items WHERE label = 'a;b'") == 1)
            let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT version, name, checksum FROM \(schema).schema_migrations ORDER BY version"))
            var recorded: [(Int, String, String)] = []
            for try await row in rows.decode((Int, String, String).self) { recorded.append(row) }
            #expect(recorded.map(\.0) == [1, 2])
            #expect(recorded.map(\.1) == ["0001_create_items", "0002_seed"])
            #expect(recorded.map(\.2) == [try first.checksum, try second.checksum])
        }
    }

    @Test("a second run applies nothing and changes nothing")
    func idempotent() async throws {
        let migrations = [try first, try second]
        let schema = self.schema
        try await withSchema { client in
            let runner = try MigrationRunner(schema: schema, migrations: migrations)
            _ = try await runner.run(on: client, logger: TestStack.logger)
            let again = try await runner.run(on: client, logger: TestStack.logger)
            #expect(again.applied == [])
            #expect(again.alreadyApplied == [1, 2])
            #expect(try await count(client, "SELECT count(*)::int FROM \(schema).items") == 1)
        }
    }

    @Test("refuses to start when an applied file was edited, and when one disappeared")
    func refusesEditedFile() async throws {
        let original = try first
        let edited = try Migration(fileName: "0001_create_items.sql", sql: "CREATE TABLE items (id bigint PRIMARY KEY);")
        let schema = self.schema
        try await withSchema { client in
            _ = try await MigrationRunner(schema: schema, migrations: [original]).run(on: client, logger: TestStack.logger)
            await #expect(throws: MigrationError.checksumMismatch(
                version: 1, name: "0001_create_items", recorded: original.checksum, current: edited.checksum
            )) {
                _ = try await MigrationRunner(schema: schema, migrations: [edited]).run(on: client, logger: TestStack.logger)
            }
            await #expect(throws: MigrationError.unknownAppliedVersion(version: 1, name: "0001_create_items")) {
                _ = try await MigrationRunner(schema: schema, migrations: []).run(on: client, logger: TestStack.logger)
            }
        }
    }

    @Test("a failing statement rolls the whole run back")
    func failureRollsBack() async throws {
        let broken = try Migration(fileName: "0002_broken.sql", sql: "INSERT INTO items (id, label) VALUES (1, 'x');\nSELECT * FROM no_such_table;")
        let good = try first
        let schema = self.schema
        try await withSchema { client in
            do {
                _ = try await MigrationRunner(schema: schema, migrations: [good, broken]).run(on: client, logger: TestStack.logger)
                Issue.record("the broken migration should have failed")
            } catch let error as MigrationError {
                guard case .statementFailed(let version, _, let statement, let message) = error else {
                    Issue.record("unexpected error \(error)"); return
                }
                #expect(version == 2)
                #expect(statement == 2)
                #expect(message.contains("no_such_table"))
            }
            // Nothing of the run survived: not 0001's table, not the bookkeeping rows.
            #expect(try await count(client, "SELECT count(*)::int FROM pg_tables WHERE schemaname = '\(schema)' AND tablename = 'items'") == 0)
        }
    }

    @Test("concurrent starts apply each file exactly once (advisory lock)")
    func concurrentStarts() async throws {
        let migrations = [try first, try second]
        let schema = self.schema
        let admin = self.admin
        try await withSchema { client in
            let outcomes = try await withThrowingTaskGroup(of: MigrationRunner.Outcome.self) { group in
                for _ in 0..<6 {
                    group.addTask {
                        // Each "instance" has its own pool, as separate processes would.
                        try await TestStack.withClient(admin) { own in
                            try await MigrationRunner(schema: schema, migrations: migrations).run(on: own, logger: TestStack.logger)
                        }
                    }
                }
                var all: [MigrationRunner.Outcome] = []
                for try await outcome in group { all.append(outcome) }
                return all
            }
            #expect(outcomes.flatMap(\.applied).sorted() == [1, 2])
            #expect(outcomes.filter { $0.applied.isEmpty }.count == 5)
            #expect(try await count(client, "SELECT count(*)::int FROM \(schema).items") == 1)
            #expect(try await count(client, "SELECT count(*)::int FROM \(schema).schema_migrations") == 2)
        }
    }

    @Test("refuses schema names that are not plain identifiers", arguments: ["", "Users", "a-b", "x; DROP", "1abc"])
    func rejectsSchemaNames(_ schema: String) {
        #expect(throws: MigrationError.invalidSchema(schema)) { try MigrationRunner(schema: schema, migrations: []) }
    }
}
