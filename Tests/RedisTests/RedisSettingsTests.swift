import Redis
import Testing

/// `REDIS_URL` parsing (pure): what the client cannot honour is refused, so startup stops
/// naming the variable instead of running with rate limits and revocations silently off.
@Suite("REDIS_URL parsing")
struct RedisSettingsTests {
    @Test("host and port, the port defaulting to 6379")
    func accepted() throws {
        let explicit = try #require(RedisSettings(url: "redis://127.0.0.1:6380"))
        #expect(explicit.host == "127.0.0.1" && explicit.port == 6380)
        let defaulted = try #require(RedisSettings(url: "redis://redis/"))
        #expect(defaulted.host == "redis" && defaulted.port == 6379)
    }

    @Test("a user, a password, a database, a query, another scheme or a bad port is refused", arguments: [
        "redis://:secret@redis:6379", "redis://default:secret@redis:6379", "redis://someone@redis:6379", "redis://redis:6379/2",
        "redis://redis:6379?timeout=1", "redis://redis:6379#x", "rediss://redis:6379", "http://redis:6379", "redis://redis:0",
        "redis://redis:70000", "redis://:6379", "",
    ])
    func refused(url: String) {
        #expect(RedisSettings(url: url) == nil, "\(url)")
    }
}
