import ServiceKit

/// How the gateway treats every upstream: timeouts, retries, the circuit breaker and the
/// concurrency limit.
///
/// | variable | default |
/// |---|---|
/// | `GATEWAY_CONNECT_TIMEOUT_MS` | 1000 |
/// | `GATEWAY_UPSTREAM_TIMEOUT_MS` (until the response head, and a small body's end, arrive; on the event-loop path also a streamed body's longest silence) | 10000 |
/// | `GATEWAY_RETRIES` (idempotent methods only) | 2 |
/// | `GATEWAY_UPSTREAM_CONCURRENCY` (in-flight requests per upstream) | 512 |
/// | `GATEWAY_BREAKER_FAILURES` (consecutive failures that open it) | 5 |
/// | `GATEWAY_BREAKER_OPEN_MS` (before one trial request) | 5000 |
struct UpstreamPolicy: Sendable, Equatable {
    var connectTimeout: Duration
    var requestTimeout: Duration
    var retries: Int
    var concurrency: Int
    var breaker: CircuitBreaker.Configuration

    static let connectTimeoutKey = SettingKey("gateway.connect.timeout.ms", expecting: "milliseconds, 1-600000")
    static let requestTimeoutKey = SettingKey("gateway.upstream.timeout.ms", expecting: "milliseconds, 1-600000")
    static let retriesKey = SettingKey("gateway.retries", expecting: "a retry count, 0-5")
    static let concurrencyKey = SettingKey("gateway.upstream.concurrency", expecting: "in-flight requests per upstream, 1-100000")
    static let breakerFailuresKey = SettingKey("gateway.breaker.failures", expecting: "consecutive failures, 1-1000")
    static let breakerOpenKey = SettingKey("gateway.breaker.open.ms", expecting: "milliseconds, 1-600000")

    static func read(from settings: Settings) throws(ConfigurationError) -> UpstreamPolicy {
        func duration(_ key: SettingKey, _ fallback: Duration) throws(ConfigurationError) -> Duration {
            try settings.optionalParsed(key) { Int($0).flatMap { (1...600_000).contains($0) ? Duration.milliseconds($0) : nil } } ?? fallback
        }
        return UpstreamPolicy(
            connectTimeout: try duration(connectTimeoutKey, .seconds(1)),
            requestTimeout: try duration(requestTimeoutKey, .seconds(10)),
            retries: try settings.count(retriesKey, in: 0...5) ?? 2,
            concurrency: try settings.count(concurrencyKey, in: 1...100_000) ?? 512,
            breaker: .init(
                failureThreshold: try settings.count(breakerFailuresKey, in: 1...1_000) ?? 5,
                openDuration: try duration(breakerOpenKey, .seconds(5))
            )
        )
    }
}
