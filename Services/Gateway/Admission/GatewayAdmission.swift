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
    private let authFailures = Counter(label: "gateway_auth_failures_total")

    init(verifier: TokenVerifier?, cacheCapacity: Int, redis: RedisClient?, settings: GatewaySettings, logger: Logger) {
        self.verifier = verifier
        self.cache = VerifiedTokenCache(capacity: cacheCapacity)
        self.redis = redis
        self.readBucket = settings.rateLimitEnabled ? TokenBucket(capacity: settings.readLimit.burst, refillPerSecond: settings.readLimit.perSecond) : nil
        self.writeBucket = settings.rateLimitEnabled ? TokenBucket(capacity: settings.writeLimit.burst, refillPerSecond: settings.writeLimit.perSecond) : nil
        self.logger = logger
    }

    /// Admits or refuses `request` for `route`.
    func admit(_ request: Request, route: RouteTable.Route, clientAddress: String?) async throws(Refused) -> Admitted {
        let now = Date()
        let identity = try await authenticate(request, route: route, clientAddress: clientAddress, now: now)
        let bucket = route.rateClass == .read ? readBucket : writeBucket
        let vetoKey = identity.map { RedisRevocationList.key($0.tokenID) }
        guard let redis, bucket != nil || vetoKey != nil else { return Admitted(identity: identity, rateLimitHeaders: [:]) }
        guard let bucket else {
            // Authentication without rate limiting: the revocation check alone.
            if let vetoKey, await exists(vetoKey, in: redis) { throw refusal(.revoked) }
            return Admitted(identity: identity, rateLimitHeaders: [:])
        }
        let subject = identity.map { "user:\($0.userID.uuidString.lowercased())" } ?? "ip:\(clientAddress ?? "unknown")"
        let key = "orderflow:ratelimit:\(route.rateClass.rawValue):\(subject)"
        let decision: TokenBucket.Decision
        do {
            decision = try await bucket.take(key: key, nowMs: Int64(now.timeIntervalSince1970 * 1_000), vetoKey: vetoKey, using: redis)
        } catch {
            redisFailures.increment()
            logger.warning("rate limiter unavailable; request admitted", metadata: ["error": "\(error)"])
            return Admitted(identity: identity, rateLimitHeaders: [:])
        }
        if decision.vetoed { throw refusal(.revoked) }
        let counters = decisions[route.rateClass]
        guard decision.allowed else {
            counters?.limited.increment()
            throw Self.rateLimited(bucket, decision, what: "\(route.rateClass.rawValue) rate limit")
        }
        counters?.allowed.increment()
        return Admitted(identity: identity, rateLimitHeaders: Self.headers(bucket, decision))
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
        try await spendVerification(clientAddress: clientAddress, now: now)
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
    private func spendVerification(clientAddress: String?, now: Date) async throws(Refused) {
        guard let redis, let bucket = writeBucket else { return }
        let decision: TokenBucket.Decision
        do {
            decision = try await bucket.take(
                key: "orderflow:ratelimit:verify:ip:\(clientAddress ?? "unknown")", nowMs: Int64(now.timeIntervalSince1970 * 1_000), using: redis
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

    private func exists(_ key: String, in redis: RedisClient) async -> Bool {
        do {
            return try await redis.execute(RedisCommand("EXISTS", [.text(key)])).integer == 1
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
