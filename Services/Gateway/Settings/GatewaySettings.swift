import Foundation
import ServiceKit

/// Everything the gateway reads beyond the common settings.
///
/// | variable | default | meaning |
/// |---|---|---|
/// | `GATEWAY_USERS_URL`, `GATEWAY_ORDERS_URL`, `GATEWAY_PAYMENTS_URL`, `GATEWAY_NOTIFICATIONS_URL` | required | the upstream services |
/// | `GATEWAY_AUTH` | `on` | verify bearer tokens at the gateway (`off` only for benchmarks) |
/// | `GATEWAY_RATE_LIMIT` | `on` | token buckets in Redis (`off` only for benchmarks) |
/// | `RATE_LIMIT_READ_BURST` / `_PER_SECOND` | 100 / 50 | the bucket for GET and HEAD |
/// | `RATE_LIMIT_WRITE_BURST` / `_PER_SECOND` | 20 / 5 | the bucket for every other method |
/// | `GATEWAY_MAX_BODY_BYTES` | 1048576 | larger request bodies get 413 |
/// | `GATEWAY_CLIENT_IDLE_TIMEOUT_MS` | 60000 | a client connection with nothing read for this long, and no answer owed, is closed (``ClientIdleTimeoutHandler``) |
/// | `GATEWAY_CORS_ORIGINS` | empty (CORS off) | comma-separated origins, or `*` |
/// | `GATEWAY_VERIFIED_TOKEN_CACHE_SIZE` | 10000 | verified tokens kept until they expire |
/// | `GATEWAY_EVENT_LOOP_AFFINITY` | `off` | `on` serves each connection entirely on its event loop (``EventLoopPinnedChannel``; more throughput, worse tail, see ADR 0008) |
/// | `GATEWAY_FAST_PATH` | `on` | answer plain GETs on the event loop that read them, without Hummingbird's router or async-http-client (``FastForwarder``, ADR 0009); off while tracing is on |
/// | `GATEWAY_SPECULATIVE_READS` | `on` | on the event-loop path, a read whose caller's bucket surely has a token goes upstream while its Redis decision is on the way; a refusal still wins, at once, and the upstream's answer is thrown away (``AdmissionForecast``, ADR 0011); no effect where that path is off (`GATEWAY_FAST_PATH=off`, tracing on) |
/// Plus the per-upstream knobs of ``UpstreamPolicy``.
struct GatewaySettings: Sendable {
    var upstreams: [UpstreamName: URL]
    var authEnabled: Bool
    var rateLimitEnabled: Bool
    var readLimit: RateLimitClass.Limit
    var writeLimit: RateLimitClass.Limit
    var maxBodyBytes: Int
    var clientIdleTimeoutMs: Int
    var corsOrigins: [String]
    var verifiedTokenCacheSize: Int
    var eventLoopAffinity: Bool
    var fastPath: Bool
    var speculativeReads: Bool
    var policy: UpstreamPolicy

    static let authKey = SettingKey("gateway.auth", expecting: "on or off")
    static let rateLimitKey = SettingKey("gateway.rate.limit", expecting: "on or off")
    static let readBurstKey = SettingKey("rate.limit.read.burst", expecting: "a whole number of requests, 1-1000000000")
    static let readRateKey = SettingKey("rate.limit.read.per.second", expecting: "requests per second, 1-1000000000")
    static let writeBurstKey = SettingKey("rate.limit.write.burst", expecting: "a whole number of requests, 1-1000000000")
    static let writeRateKey = SettingKey("rate.limit.write.per.second", expecting: "requests per second, 1-1000000000")
    static let maxBodyKey = SettingKey("gateway.max.body.bytes", expecting: "a byte count, 1-1073741824")
    static let clientIdleKey = SettingKey("gateway.client.idle.timeout.ms", expecting: "milliseconds, 100-3600000")
    static let corsKey = SettingKey("gateway.cors.origins", expecting: "comma-separated origins such as https://app.example, or *")
    static let tokenCacheKey = SettingKey("gateway.verified.token.cache.size", expecting: "an entry count, 0-10000000")
    static let affinityKey = SettingKey("gateway.event.loop.affinity", expecting: "on or off")
    static let fastPathKey = SettingKey("gateway.fast.path", expecting: "on or off")
    static let speculativeReadsKey = SettingKey("gateway.speculative.reads", expecting: "on or off")

    static func upstreamKey(_ upstream: UpstreamName) -> SettingKey {
        SettingKey("gateway.\(upstream.rawValue).url", expecting: "the \(upstream.rawValue) service's base URL, for example http://127.0.0.1:8081")
    }

    static func read(from settings: Settings) throws(ConfigurationError) -> GatewaySettings {
        var upstreams: [UpstreamName: URL] = [:]
        for upstream in UpstreamName.allCases {
            upstreams[upstream] = try settings.parsed(upstreamKey(upstream)) { raw in
                guard let url = URL(string: raw), url.scheme == "http", url.host != nil, url.path.isEmpty || url.path == "/" else { return nil }
                return url
            }
        }
        return GatewaySettings(
            upstreams: upstreams,
            authEnabled: try settings.switch(authKey, default: true),
            rateLimitEnabled: try settings.switch(rateLimitKey, default: true),
            readLimit: .init(burst: try settings.count(readBurstKey, in: 1...1_000_000_000) ?? 100,
                             perSecond: try settings.count(readRateKey, in: 1...1_000_000_000) ?? 50),
            writeLimit: .init(burst: try settings.count(writeBurstKey, in: 1...1_000_000_000) ?? 20,
                              perSecond: try settings.count(writeRateKey, in: 1...1_000_000_000) ?? 5),
            maxBodyBytes: try settings.count(maxBodyKey, in: 1...1_073_741_824) ?? 1_048_576,
            clientIdleTimeoutMs: try settings.count(clientIdleKey, in: 100...3_600_000) ?? 60_000,
            corsOrigins: try settings.optionalParsed(corsKey) { raw in
                let origins = raw.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
                return origins.allSatisfy { $0 == "*" || $0.hasPrefix("http://") || $0.hasPrefix("https://") } ? origins : nil
            } ?? [],
            verifiedTokenCacheSize: try settings.count(tokenCacheKey, in: 0...10_000_000) ?? 10_000,
            eventLoopAffinity: try settings.switch(affinityKey, default: false),
            fastPath: try settings.switch(fastPathKey, default: true),
            speculativeReads: try settings.switch(speculativeReadsKey, default: true),
            policy: try UpstreamPolicy.read(from: settings)
        )
    }
}

extension Settings {
    /// An `on`/`off` switch (also accepts true/false, 1/0, yes/no).
    func `switch`(_ key: SettingKey, default defaultValue: Bool) throws(ConfigurationError) -> Bool {
        try optionalParsed(key) { raw in
            switch raw.lowercased() {
            case "on", "true", "1", "yes": true
            case "off", "false", "0", "no": false
            default: nil
            }
        } ?? defaultValue
    }

    /// A whole number within `range`, or nil when unset.
    func count(_ key: SettingKey, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        try optionalParsed(key) { Int($0).flatMap { range.contains($0) ? $0 : nil } }
    }
}
