import Auth
import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

/// Suites that run users or payments processes. The processes of one service share a
/// consumer group, so a message could reach another test's process (with other faults
/// armed): these suites run one at a time.
@Suite("Live users and payments", .serialized)
enum LiveServices {}

/// A users process and a payments process verifying users' tokens, against the test stack.
struct UsersAndPayments {
    let users: ServiceProcess
    private(set) var payments: ServiceProcess

    static func start(payments extra: [String: String] = [:], users usersExtra: [String: String] = [:]) async throws -> UsersAndPayments {
        let users = try ServiceProcess("users", environment: try StackEnvironment.serviceEnvironment("users")
            .merging(["LOG_LEVEL": "info"].merging(usersExtra) { $1 }) { $1 })
        try await waitReady(users)
        let payments = try ServiceProcess("payments", environment: try paymentsEnvironment(for: users, extra: extra))
        try await waitReady(payments)
        return UsersAndPayments(users: users, payments: payments)
    }

    static func paymentsEnvironment(for users: ServiceProcess, extra: [String: String]) throws -> [String: String] {
        try StackEnvironment.serviceEnvironment("payments", jwksURL: "http://127.0.0.1:\(users.port)/.well-known/jwks.json")
            .merging(["LOG_LEVEL": "info"].merging(extra) { _, new in new }) { _, new in new }
    }

    /// Starts a fresh payments process (the old one must have exited).
    mutating func restartPayments(_ extra: [String: String] = [:]) async throws {
        payments = try ServiceProcess("payments", environment: try Self.paymentsEnvironment(for: users, extra: extra))
        try await Self.waitReady(payments)
    }

    /// Waits for readiness and for the process's consumer to own its partitions. Stopping a
    /// consumer while Tansu still holds its JoinGroup leaves a member the group then waits
    /// for, stalling the next process of that service (see ADR 0006).
    static func waitReady(_ process: ServiceProcess) async throws {
        try await Poll.until("\(process.name) is ready") {
            guard process.isRunning else { return true }
            return await process.get("health/ready")?.status == 200
        }
        try #require(process.isRunning, "\(process.name) exited during startup:\n\(process.log.suffix(2_000))")
        try await process.waitForLog("kafka partitions assigned")
    }

    /// Starts `service` (orders, notifications) verifying users' tokens, with `extra` settings,
    /// and waits until it is ready.
    func startVerifying(_ service: String, extra: [String: String] = [:]) async throws -> ServiceProcess {
        let process = try ServiceProcess(service, environment: try StackEnvironment.serviceEnvironment(
            service, jwksURL: "http://127.0.0.1:\(users.port)/.well-known/jwks.json"
        ).merging(["LOG_LEVEL": "info"].merging(extra) { $1 }) { $1 })
        try await Self.waitReady(process)
        return process
    }

    func stop() async throws {
        _ = try await payments.terminate()
        _ = try await users.terminate()
    }

    /// Registers a fresh customer and logs in (at users, or through `entry`, a gateway);
    /// returns the user id and a token pair.
    func newCustomer(_ name: String = "Test Customer", via entry: ServiceProcess? = nil) async throws -> Customer {
        let email = "c-\(UUID().uuidString.prefix(12).lowercased())@example.org"
        let password = "pw-\(UUID().uuidString)"
        let users = entry ?? self.users
        let created = try await users.request("POST", "/api/v1/users", json: #"{"email":"\#(email)","password":"\#(password)","display_name":"\#(name)"}"#)
        try #require(created.status == 201, "register: \(created.status) \(created.text)")
        let rawID = try created.json()["id"] as? String
        let id = try #require(rawID.flatMap(UUID.init(uuidString:)))
        let tokens = try await login(email: email, password: password, via: entry)
        return Customer(id: id, email: email, password: password, accessToken: tokens.access, refreshToken: tokens.refresh)
    }

    func login(email: String, password: String, via entry: ServiceProcess? = nil) async throws -> (access: String, refresh: String) {
        try await (entry ?? users).endpoint.login(email: email, password: password)
    }

    /// The bootstrap administrator's access token.
    func adminToken(via entry: ServiceProcess? = nil) async throws -> String {
        try await login(
            email: try StackEnvironment.value("ORDERFLOW_ADMIN_EMAIL"), password: try StackEnvironment.value("ORDERFLOW_ADMIN_PASSWORD"), via: entry
        ).access
    }

    /// Polls `GET /api/v1/wallet` until the wallet exists (it is opened through Kafka).
    func walletBalance(of customer: Customer, via entry: ServiceProcess? = nil) async throws -> Int64 {
        let holder = BalanceHolder()
        let payments = entry ?? self.payments
        try await Poll.until("the wallet of \(customer.email) exists") {
            let reply = try await payments.request("GET", "/api/v1/wallet", headers: customer.bearer)
            guard reply.status == 200 else { return false }
            let balance = try #require(try reply.json()["balance"] as? [String: Any])
            holder.value = (balance["amount_minor"] as? NSNumber)?.int64Value
            return true
        }
        return try #require(holder.value)
    }
}

final class BalanceHolder: @unchecked Sendable {
    var value: Int64?
}

/// A registered, logged-in customer.
struct Customer: Sendable {
    let id: UUID
    let email: String
    let password: String
    let accessToken: String
    let refreshToken: String
    var bearer: [String: String] { ["Authorization": "Bearer \(accessToken)"] }
}

/// SQL against the test stack as the Postgres superuser.
enum AdminDatabase {
    static func with<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        let url = try StackEnvironment.value("ORDERFLOW_ADMIN_DATABASE_URL")
        let parsed = try #require(URLComponents(string: url))
        let configuration = PostgresClient.Configuration(
            host: try #require(parsed.host), port: parsed.port ?? 5432, username: parsed.user ?? "postgres",
            password: parsed.password, database: String(parsed.path.dropFirst()), tls: .disable
        )
        let client = PostgresClient(configuration: configuration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// The single Int64 the query returns.
    static func scalar(_ query: PostgresQuery, on client: PostgresClient) async throws -> Int64 {
        for try await value in try await client.query(query).decode(Int64.self) { return value }
        throw Missing()
    }

    struct Missing: Error {}
}
