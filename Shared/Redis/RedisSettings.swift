import Foundation
public import ServiceKit

/// How a service reaches Redis.
public struct RedisSettings: Sendable, Equatable {
    /// Host name or address.
    public var host: String
    /// TCP port.
    public var port: Int

    /// `REDIS_URL`.
    public static let urlKey = SettingKey(
        "redis.url", expecting: "redis://host:port without user, password, database or query (no AUTH support), for example redis://127.0.0.1:6379")

    /// Reads `REDIS_URL` (required).
    public static func read(from settings: Settings) throws(ConfigurationError) -> RedisSettings {
        try settings.parsed(urlKey, RedisSettings.init(url:))
    }

    /// Parses `redis://host[:port]`; nil for anything else. A user or password is refused,
    /// not ignored: the client sends no `AUTH`, so every command would fail with `NOAUTH` and
    /// the callers that fail open (rate limits, revocations) would silently be off.
    public init?(url raw: String) {
        guard let components = URLComponents(string: raw), components.scheme == "redis",
              let host = components.host, !host.isEmpty,
              components.path.isEmpty || components.path == "/",
              components.user == nil, components.password == nil, components.query == nil, components.fragment == nil
        else { return nil }
        if let port = components.port, !(1...65_535).contains(port) { return nil }
        self.host = host
        self.port = components.port ?? 6379
    }
}
