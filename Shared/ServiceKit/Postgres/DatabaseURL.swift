import Foundation
public import PostgresNIO

/// A parsed `DATABASE_URL`: `postgres://user:password@host:port/database?sslmode=disable`.
///
/// `sslmode` accepts `disable`, `prefer` (the default, as in libpq) and `require`.
public struct DatabaseURL: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String?
    public var database: String
    public var tlsMode: TLSMode

    /// How the client negotiates TLS.
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer, require
    }

    /// The setting key every service reads.
    public static let key = SettingKey(
        "database.url",
        expecting: "postgres://user:password@host:port/database[?sslmode=disable|prefer|require]",
        isSecret: true
    )

    /// Parses `raw`; nil when it is not a usable Postgres URL.
    public init?(_ raw: String) {
        guard let components = URLComponents(string: raw),
              let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql",
              let host = components.host, !host.isEmpty,
              let user = components.user, !user.isEmpty
        else { return nil }
        let database = String(components.path.drop { $0 == "/" })
        guard !database.isEmpty, !database.contains("/") else { return nil }
        var tlsMode = TLSMode.prefer
        for item in components.queryItems ?? [] {
            switch item.name {
            case "sslmode":
                guard let value = item.value, let mode = TLSMode(rawValue: value) else { return nil }
                tlsMode = mode
            default:
                return nil
            }
        }
        if let port = components.port, !(1...65_535).contains(port) { return nil }
        self.host = host
        self.port = components.port ?? 5432
        self.username = user.removingPercentEncoding ?? user
        self.password = components.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database
        self.tlsMode = tlsMode
    }

    /// A `PostgresClient` configuration for this URL.
    public func clientConfiguration(maximumConnections: Int = 20) -> PostgresClient.Configuration {
        let tls: PostgresClient.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(.makeClientConfiguration())
        case .require: tls = .require(.makeClientConfiguration())
        }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.maximumConnections = maximumConnections
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }

    /// A configuration for one dedicated connection (outside the pool), for sessions that must
    /// stay on one connection: advisory locks held for a leadership term, `LISTEN`.
    public func connectionConfiguration() throws -> PostgresConnection.Configuration {
        let tls: PostgresConnection.Configuration.TLS
        switch tlsMode {
        case .disable: tls = .disable
        case .prefer: tls = .prefer(try .init(configuration: .makeClientConfiguration()))
        case .require: tls = .require(try .init(configuration: .makeClientConfiguration()))
        }
        var configuration = PostgresConnection.Configuration(
            host: host, port: port, username: username, password: password, database: database, tls: tls
        )
        configuration.options.connectTimeout = .seconds(5)
        return configuration
    }
}
