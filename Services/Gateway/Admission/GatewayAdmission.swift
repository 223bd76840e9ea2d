import Auth
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Metrics
import Redis
import ServiceKit

/// Decides whether a request enters: verifies its bearer token (through the
/// ``VerifiedTokenCache``; uncached tokens spend from a per-address verification bucket first), then — in one Redis round trip — refuses a revoked token and spends
/// from the caller's token bucket (per user, or per client address when anonymous, separately for
/// reads and writes). If Redis cannot answer, the request passes and a metric counts it.
///
/// The event-loop path may send a read upstream while that round trip is on the way, when the
/// ``SharedAdmissionForecast`` says the caller's bucket has a token to spare
/// (``Pending/mayGoFirst``, ADR 0011); the decision still wins.
struct GatewayAdmission: Sendable {
    /// A request that may proceed.
    struct Admitted: Sendable {
        /// Who is calling, when a valid token came with the request.
        var identity: Identity?
        /// `RateLimit-*` headers to put on the response.
        var rateLimitHeaders: HTTPFields
    }

    /// A request turned away, with the headers its problem response carries.
    struct Refused: Error, Sendable {
        var problem: ProblemDetails
        var headers: HTTPFields
    }

    let verifier: TokenVerifier?
    let cache: VerifiedTokenCache
    let redis: RedisClient?
    let readBucket: TokenBucket?
    let writeBucket: TokenBucket?
    /// Which reads may go upstream before their decision; nil when speculative reads are off.
    let forecast: SharedAdmissionForecast?
    let logger: Logger

    private let decisions: [RateLimitClass: (allowed: Counter, limited: Counter)] = Dictionary(
        uniqueKeysWithValues: RateLimitClass.allCases.map { rateClass in
            (rateClass, (
                Counter(label: "gateway_rate_limit_decisions_total", dimensions: [("class", rateClass.rawValue), ("decision", "allowed")]),
                Counter(label: "gateway_rate_limit_decisions_total", dimensions: [("class", rateClass.rawValue), ("decision", "limited")])
            ))
        }
    )
    private let redisFailures = Counter(label: "gateway_rate_limit_failures_total")
    private let speculativeAdmitted = Counter(label: "gateway_speculative_reads_total", dimensions: [("decision", "allowed")])
    private let speculativeRefused = Counter(label: "gateway_speculative_reads_total", dimensions: [("decision", "refused")])
    private let authFailures = Counter(label: "gateway_auth_failures_total")

    /// Buckets the forecast remembers at most.
    static let forecastCapacity = 10_000

    /// `speculativeReads` creates the forecast (only worth it where the event-loop path runs).
    init(verifier: TokenVerifier?, cacheCapacity: Int, redis: RedisClient?, settings: GatewaySettings, speculativeReads: Bool, logger: Logger) {
        self.verifier = verifier
        self.cache = VerifiedTokenCache(capacity: cacheCapacity)
        self.redis = redis
        self.readBucket = settings.rateLimitEnabled ? TokenBucket(capacity: settings.readLimit.burst, refillPerSecond: settings.readLimit.perSecond) : nil
        self.writeBucket = settings.rateLimitEnabled ? TokenBucket(capacity: settings.writeLimit.burst, refillPerSecond: settings.writeLimit.perSecond) : nil
        self.forecast = settings.rateLimitEnabled && speculativeReads ? SharedAdmissionForecast(capacity: Self.forecastCapacity) : nil
        self.logger = logger
    }

    /// A request whose caller is known (its token verified) and whose Redis decision is still to
    /// come: ``identify(_:route:clientAddress:)`` makes it, ``decide(_:speculated:)`` settles it
    /// (every `Pending` must be decided: a read is registered with the forecast until then).
    struct Pending: Sendable {
        /// Who is calling, when a valid token came with the request.
        var identity: Identity?
        /// The bucket the request spends from; nil when rate limiting is off.
        fileprivate var bucketKey: String?
        fileprivate var rateClass: RateLimitClass
        /// The revocation keys of the caller's token and of the caller (empty when anonymous).
        fileprivate var vetoKeys: [String]
        /// How the forecast registered the request (``AdmissionForecast/Turn/untracked`` when it did not).
        fileprivate var turn: AdmissionForecast.Turn

        /// Whether the request, a read, may go upstream while its decision is on the way (ADR
        /// 0011): the forecast says its bucket has a token to spare. Who sends it first must
        /// ``decide(_:speculated:)`` with `speculated: true` and throw the upstream's answer away
        /// if that refuses.
        var mayGoFirst: Bool { turn == .mayGoFirst }
    }

    /// Admits or refuses `request` for `route`: ``identify(_:route:clientAddress:)``, then
    /// ``decide(_:speculated:)``.
    func admit(_ request: Request, route: RouteTable.Route, clientAddress: String?) async throws(Refused) -> Admitted {
        try await decide(try await identify(request, route: route, clientAddress: clientAddress), speculated: false)
    }

    /// Verifies the caller's token (refusing a missing or invalid one), names the bucket the
    /// request spends from, and registers a read with the forecast until its decision.
    func identify(_ request: Request, route: RouteTable.Route, clientAddress: String?) async throws(Refused) -> Pending {
        let identity = try await authenticate(request, route: route, clientAddress: clientAddress, now: Date())
        let bucket = route.rateClass == .read ? readBucket : writeBucket
        let subject = identity.map { "user:\($0.userID.uuidString.lowercased())" } ?? "ip:\(clientAddress ?? "unknown")"
        let bucketKey = bucket == nil ? nil : "orderflow:ratelimit:\(route.rateClass.rawValue):\(subject)"
        var turn = AdmissionForecast.Turn.untracked
        if let forecast, route.rateClass == .read, let bucketKey { turn = forecast.register(bucketKey) }
        return Pending(
            identity: identity, bucketKey: bucketKey, rateClass: route.rateClass,
            vetoKeys: identity.map { RedisRevocationList.keys(tokenID: $0.tokenID, userID: $0.userID) } ?? [], turn: turn
        )
    }

    /// The Redis decision for `pending`: one round trip refuses a revoked token and spends from the
    /// bucket. If Redis cannot answer, the request passes and a metric counts it.
    func decide(_ pending: Pending, speculated: Bool) async throws(Refused) -> Admitted {
        // Whatever happens below settles the read's registration with the forecast: with the
        // tokens Redis reported, or with nothing known.
        var reported: Int?
        defer { remember(pending, remaining: reported) }
        let identity = pending.identity
        let bucket = pending.rateClass == .read ? readBucket : writeBucket
        guard let redis, bucket != nil || !pending.vetoKeys.isEmpty else { return Admitted(identity: identity, rateLimitHeaders: [:]) }
        guard let bucket, let key = pending.bucketKey else {
            // Authentication without rate limiting: the revocation check alone.
            if !pending.vetoKeys.isEmpty, await anyExists(pending.vetoKeys, in: redis) { throw refusal(.revoked) }
            return Admitted(identity: identity, rateLimitHeaders: [:])
        }
        let decision: TokenBucket.Decision
        do {
            decision = try await bucket.take(key: key, vetoKeys: pending.vetoKeys, using: redis)
        } catch {
            if speculated { speculativeAdmitted.increment() }
            redisFailures.increment()
            logger.warning("rate limiter unavailable; request admitted", metadata: ["error": "\(error)"])
            return Admitted(identity: identity, rateLimitHeaders: [:])
        }
        reported = decision.remaining
        if speculated { (decision.allowed ? speculativeAdmitted : speculativeRefused).increment() }
        if decision.vetoed { throw refusal(.revoked) }
        let counters = decisions[pending.rateClass]
        guard decision.allowed else {
            counters?.limited.increment()
            throw Self.rateLimited(bucket, decision, what: "\(pending.rateClass.rawValue) rate limit")
        }
        counters?.allowed.increment()
        return Admitted(identity: identity, rateLimitHeaders: Self.headers(bucket, decision))
    }

    /// Tells the forecast what a registered read's decision said of its bucket.
    private func remember(_ pending: Pending, remaining: Int?) {
        guard let forecast, let key = pending.bucketKey else { return }
        forecast.settle(key, remaining: remaining, turn: pending.turn)
    }

    /// `RateLimit-*` headers for a decision.
    static func headers(_ bucket: TokenBucket, _ decision: TokenBucket.Decision) -> HTTPFields {
        var headers: HTTPFields = [:]
        headers[.rateLimitLimit] = String(bucket.capacity)
        headers[.rateLimitRemaining] = String(decision.remaining)
        headers[.rateLimitReset] = String(seconds(rounding: decision.resetMs))
        return headers
    }

    /// The 429 for an empty bucket, with `Retry-After` and `RateLimit-*`.
    static func rateLimited(_ bucket: TokenBucket, _ decision: TokenBucket.Decision, what: String) -> Refused {
        var headers = headers(bucket, decision)
        headers[.retryAfter] = String(max(1, seconds(rounding: decision.retryAfterMs)))
        return Refused(
            problem: ProblemDetails(
                status: .tooManyRequests, type: "/problems/rate-limited", title: "Too many requests",
                detail: "The \(what) of \(bucket.refillPerSecond)/s (burst \(bucket.capacity)) was exceeded; retry after the Retry-After seconds."
            ),
            headers: headers
        )
    }

    /// The verified identity of the bearer token; required on authenticated routes, ignored
    /// (not verified) on anonymous ones, so public calls stay cheap.
    private func authenticate(_ request: Request, route: RouteTable.Route, clientAddress: String?, now: Date) async throws(Refused) -> Identity? {
        guard let verifier, route.access == .authenticated else { return nil }
        guard let token = Authenticator.bearerToken(in: request) else { throw refusal(.missingToken) }
        if let cached = cache.identity(of: token, now: now) { return cached }
        try await spendVerification(clientAddress: clientAddress)
        do {
            let identity = try await verifier.verify(token)
            cache.remember(identity, for: token, now: now)
            return identity
        } catch {
            throw refusal(error)
        }
    }

    /// A token the cache has not seen costs a signature check, so each client address gets the
    /// write bucket's budget of them: a flood of forged tokens meets 429 before any verification.
    /// (A real client verifies a new token once per refresh, far below that budget.)
    private func spendVerification(clientAddress: String?) async throws(Refused) {
        guard let redis, let bucket = writeBucket else { return }
        let decision: TokenBucket.Decision
        do {
            decision = try await bucket.take(
                key: "orderflow:ratelimit:verify:ip:\(clientAddress ?? "unknown")", using: redis
            )
        } catch {
            redisFailures.increment()
            return
        }
        guard decision.allowed else {
            decisions[.write]?.limited.increment()
            throw Self.rateLimited(bucket, decision, what: "token verification limit")
        }
    }

    private func anyExists(_ keys: [String], in redis: RedisClient) async -> Bool {
        do {
            return (try await redis.execute(RedisCommand("EXISTS", keys.map { .text($0) })).integer ?? 0) > 0
        } catch {
            redisFailures.increment()
            logger.warning("revocation list unavailable; token accepted", metadata: ["error": "\(error)"])
            return false
        }
    }

    private func refusal(_ failure: AuthFailure) -> Refused {
        authFailures.increment()
        var headers: HTTPFields = [:]
        if failure.problem.status == 401 { headers[.wwwAuthenticate] = #"Bearer realm="orderflow""# }
        return Refused(problem: failure.problem, headers: headers)
    }

    static func seconds(rounding milliseconds: Int) -> Int {
        (milliseconds + 999) / 1_000
    }
}
