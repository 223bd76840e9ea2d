public import PostgresNIO

/// Readiness probe for Postgres: runs `SELECT 1` through the service's pool.
public struct PostgresCheck: DependencyCheck {
    public let name = "postgres"
    private let client: PostgresClient

    /// Creates a probe over `client`.
    public init(client: PostgresClient) {
        self.client = client
    }

    public func check() async throws {
        let rows = try await client.query("SELECT 1 AS ok")
        for try await _ in rows {}
    }
}
