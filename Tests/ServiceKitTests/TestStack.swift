import Foundation
import Logging
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

/// The throwaway stack `make test` starts; its URLs arrive in the environment.
enum TestStack {
    static func value(_ name: String) throws -> String {
        try StackEnvironment.value(name)
    }

    /// The superuser URL of the test cluster's `orderflow` database.
    static func adminURL() throws -> DatabaseURL {
        try #require(DatabaseURL(try value("ORDERFLOW_ADMIN_DATABASE_URL")))
    }

    /// The URL for a service role (`users`, `orders`, `payments`, `notifications`).
    static func roleURL(_ role: String) throws -> DatabaseURL {
        try #require(DatabaseURL(try value("ORDERFLOW_\(role.uppercased())_DATABASE_URL")))
    }

    static let logger = Logger(label: "tests")

    /// Runs `body` with a running client for `url`; the client is shut down afterwards.
    @discardableResult
    static func withClient<T: Sendable>(
        _ url: DatabaseURL,
        _ body: @Sendable (PostgresClient) async throws -> T
    ) async throws -> T {
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 4), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }

    /// An admin URL whose port has nothing listening: Postgres "down" without stopping anything.
    static func unreachableURL() throws -> DatabaseURL {
        var url = try adminURL()
        url.port = try FreePort.reserve()
        return url
    }

    /// A fresh schema name for one test.
    static func uniqueSchema(_ prefix: String) -> String {
        "\(prefix)_\(UUID().uuidString.prefix(8).lowercased())"
    }
}
