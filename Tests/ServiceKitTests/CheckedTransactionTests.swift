import Foundation
import PostgresNIO
import ServiceKit
import Testing

/// `withCheckedTransaction` against the test cluster: commits, rolls back on a thrown error,
/// and refuses to call an aborted transaction committed.
@Suite("Checked transactions")
struct CheckedTransactionTests {
    private func withTable(_ body: @Sendable (PostgresClient, String) async throws -> Void) async throws {
        let schema = TestStack.uniqueSchema("checked")
        try await TestStack.withClient(try TestStack.adminURL()) { client in
            try await client.query("CREATE SCHEMA \(unescaped: schema)", logger: TestStack.logger)
            try await client.query("CREATE TABLE \(unescaped: schema).notes (note text)", logger: TestStack.logger)
            do {
                try await body(client, "\(schema).notes")
            } catch {
                _ = try? await client.query("DROP SCHEMA \(unescaped: schema) CASCADE", logger: TestStack.logger)
                throw error
            }
            try await client.query("DROP SCHEMA \(unescaped: schema) CASCADE", logger: TestStack.logger)
        }
    }

    private func notes(_ client: PostgresClient, _ table: String) async throws -> [String] {
        var notes: [String] = []
        for try await note in try await client.query("SELECT note FROM \(unescaped: table) ORDER BY note", logger: TestStack.logger).decode(String.self) {
            notes.append(note)
        }
        return notes
    }

    struct Refused: Error {}

    @Test("commits the body's writes and returns its result")
    func commits() async throws {
        try await withTable { client, table in
            let result = try await client.withCheckedTransaction(logger: TestStack.logger) { connection in
                try await connection.query("INSERT INTO \(unescaped: table) VALUES ('kept')", logger: TestStack.logger)
                return 42
            }
            #expect(result == 42)
            let kept = try await notes(client, table)
            #expect(kept == ["kept"])
        }
    }

    @Test("a thrown error rolls back and is rethrown as it was")
    func rollsBackOnError() async throws {
        try await withTable { client, table in
            await #expect(throws: Refused.self) {
                try await client.withCheckedTransaction(logger: TestStack.logger) { connection in
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES ('dropped')", logger: TestStack.logger)
                    throw Refused()
                }
            }
            let remaining = try await notes(client, table)
            #expect(remaining == [])
        }
    }

    @Test("a server error from the body comes back as it was, its SQLSTATE readable")
    func serverErrorUnwrapped() async throws {
        try await withTable { client, table in
            do {
                try await client.withCheckedTransaction(logger: TestStack.logger) { connection -> Void in
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES ('x')", logger: TestStack.logger)
                    try await connection.query("SELECT 1 / 0", logger: TestStack.logger)
                }
                Issue.record("the division by zero was not reported")
            } catch {
                #expect(error is PSQLError)
                #expect(PostgresErrorCode.sqlState(of: error) == "22012")
            }
            let remaining = try await notes(client, table)
            #expect(remaining == [])
        }
    }

    @Test("a failed statement whose error the body swallowed: TransactionRolledBack, nothing written")
    func swallowedFailure() async throws {
        try await withTable { client, table in
            await #expect(throws: TransactionRolledBack.self) {
                try await client.withCheckedTransaction(logger: TestStack.logger) { connection in
                    try await connection.query("INSERT INTO \(unescaped: table) VALUES ('lost')", logger: TestStack.logger)
                    _ = try? await connection.query("SELECT 1 / 0", logger: TestStack.logger)
                }
            }
            let remaining = try await notes(client, table)
            #expect(remaining == [])
            // The connection went back to the pool usable: the next transaction commits.
            try await client.withCheckedTransaction(logger: TestStack.logger) { connection -> Void in
                try await connection.query("INSERT INTO \(unescaped: table) VALUES ('next')", logger: TestStack.logger)
            }
            let after = try await notes(client, table)
            #expect(after == ["next"])
        }
    }
}
