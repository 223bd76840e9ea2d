import PostgresNIO
@testable import ServiceKit
import Testing

/// Each service role may use its own schema and nothing else, proven through real connections.
@Suite("Database role isolation (real Postgres)")
struct RoleIsolationTests {
    static let roles = ["users", "orders", "payments", "notifications"]

    /// Every ordered pair of distinct roles.
    static let pairs: [(String, String)] = roles.flatMap { actor in roles.filter { $0 != actor }.map { (actor, $0) } }

    private func sqlState(of body: () async throws -> Void) async -> String? {
        do {
            try await body()
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.sqlState]
        } catch {
            return "unexpected: \(error)"
        }
    }

    /// Creates `role`'s probe table as `role` itself. Test cases run in parallel and
    /// `CREATE TABLE IF NOT EXISTS` is not safe against a concurrent create, so creation is
    /// serialised with an advisory lock.
    static func ensureProbeTable(_ role: String, using client: PostgresClient) async throws {
        try await client.withTransaction(logger: TestStack.logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(hashtext(\("isolation_probe." + role)))", logger: TestStack.logger)
            try await connection.query(PostgresQuery(unsafeSQL: "CREATE TABLE IF NOT EXISTS \(role).isolation_probe (x int)"), logger: TestStack.logger)
        }
    }

    @Test("a role can create, write and read tables in its own schema", arguments: roles)
    func ownSchema(_ role: String) async throws {
        try await TestStack.withClient(try TestStack.roleURL(role)) { client in
            try await Self.ensureProbeTable(role, using: client)
            try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(role).isolation_probe VALUES (1)"))
            let rows = try await client.query(PostgresQuery(unsafeSQL: "SELECT count(*)::int FROM \(role).isolation_probe"))
            for try await count in rows.decode(Int.self) { #expect(count >= 1) }
        }
    }

    @Test("a role cannot read, write or create in another service's schema", arguments: pairs)
    func otherSchemas(_ pair: (String, String)) async throws {
        let (actor, victim) = pair
        // The victim's own table exists (created by the victim role itself).
        try await TestStack.withClient(try TestStack.roleURL(victim)) { client in
            try await Self.ensureProbeTable(victim, using: client)
        }
        try await TestStack.withClient(try TestStack.roleURL(actor)) { client in
            // 42501 = insufficient_privilege
            #expect(await sqlState { try await client.query(PostgresQuery(unsafeSQL: "SELECT * FROM \(victim).isolation_probe")) } == "42501")
            #expect(await sqlState { try await client.query(PostgresQuery(unsafeSQL: "INSERT INTO \(victim).isolation_probe VALUES (2)")) } == "42501")
            #expect(await sqlState { try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE \(victim).intruder (x int)")) } == "42501")
        }
    }

    @Test("no role can create objects in schema public", arguments: roles)
    func noPublicSchema(_ role: String) async throws {
        try await TestStack.withClient(try TestStack.roleURL(role)) { client in
            #expect(await sqlState { try await client.query(PostgresQuery(unsafeSQL: "CREATE TABLE public.intruder_\(role) (x int)")) } == "42501")
        }
    }
}
