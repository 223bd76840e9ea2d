public import Foundation
import JWTKit
import Logging
import NIOConcurrencyHelpers

/// Verifies access tokens: the signature against the published keys with the algorithm pinned
/// to EdDSA, then `exp`, `nbf`, `iat`, `iss` and `aud`.
///
/// Keys come from a ``VerificationKeySource`` and are cached; a token naming an unknown key id
/// triggers one refresh (at most every ``minimumRefreshInterval``), so rotated keys are picked
/// up without restarts and forged key ids cannot hammer the key endpoint. Keys older than
/// ``maximumKeyAge`` are refreshed in the background while still in use, so a key the issuer
/// stopped publishing (retired, or leaked) stops verifying within that age. Before any keys
/// were loaded, a failed fetch is retried at most every ``unavailableRetryInterval``; tokens
/// arriving in between are refused with ``AuthFailure/keysUnavailable`` at once, so an
/// unreachable key endpoint is not asked once per request.
public final class TokenVerifier: Sendable {
    /// The expected `iss`.
    public let issuer: String
    /// The audience that must appear in `aud`.
    public let audience: String
    /// Tolerated clock skew for `exp`, `nbf` and `iat`.
    public let leeway: Duration
    /// The shortest time between two key refreshes.
    public let minimumRefreshInterval: Duration
    /// How long fetched keys are used before a refresh in the background (the request that
    /// notices does not wait for it).
    public let maximumKeyAge: Duration
    /// While no keys were ever loaded, the shortest time between two fetches.
    public let unavailableRetryInterval: Duration
    private let source: any VerificationKeySource
    private let now: @Sendable () -> Date
    private let logger: Logger
    private let cache = NIOLockedValueBox(KeyCache())

    private struct KeyCache {
        var collections: [String: JWTKeyCollection] = [:]
        var lastRefresh: ContinuousClock.Instant?
        var loaded = false
        var inFlight: Task<Void, Never>?
    }

    /// Creates a verifier.
    /// - Parameter now: The clock claims are checked against (tests move it).
    public init(
        issuer: String, audience: String, keys: any VerificationKeySource, leeway: Duration = .seconds(30),
        minimumRefreshInterval: Duration = .seconds(5), maximumKeyAge: Duration = .seconds(300),
        unavailableRetryInterval: Duration = .seconds(1),
        now: @escaping @Sendable () -> Date = { Date() }, logger: Logger
    ) {
        self.issuer = issuer
        self.audience = audience
        self.source = keys
        self.leeway = leeway
        self.minimumRefreshInterval = minimumRefreshInterval
        self.maximumKeyAge = maximumKeyAge
        self.unavailableRetryInterval = unavailableRetryInterval
        self.now = now
        self.logger = logger
    }

    /// Verifies `token` and returns whom it speaks for.
    public func verify(_ token: String) async throws(AuthFailure) -> Identity {
        let header = try Self.header(of: token)
        guard header.alg == "EdDSA" else { throw .algorithmNotAllowed(header.alg) }
        guard let kid = header.kid else { throw .unknownKey }
        let collection = try await collection(for: kid)
        let claims: AccessTokenClaims
        do {
            claims = try await collection.verify(token, as: AccessTokenClaims.self)
        } catch let error as JWTError where error.errorType == .signatureVerificationFailed {
            throw .invalidSignature
        } catch {
            throw .malformedToken
        }
        return try check(claims)
    }

    /// Checks the claims of a token whose signature is valid.
    func check(_ claims: AccessTokenClaims) throws(AuthFailure) -> Identity {
        let now = now()
        let skew = TimeInterval(leeway.components.seconds)
        guard now.timeIntervalSince(claims.expiration.value) < skew else { throw .expired }
        if let notBefore = claims.notBefore, notBefore.value.timeIntervalSince(now) > skew { throw .notYetValid }
        guard claims.issuedAt.value.timeIntervalSince(now) <= skew else { throw .notYetValid }
        guard claims.issuer.value == issuer else { throw .wrongIssuer }
        guard claims.audience.value.contains(audience) else { throw .wrongAudience }
        guard let userID = UUID(uuidString: claims.subject.value), !claims.tokenID.value.isEmpty else { throw .malformedToken }
        return Identity(userID: userID, roles: Set(claims.roles), tokenID: claims.tokenID.value, expiresAt: claims.expiration.value)
    }

    private struct Header: Decodable {
        var alg: String
        var kid: String?
    }

    /// The decoded header; throws for anything that is not `base64url.base64url.base64url`
    /// with a JSON header.
    static func header(of token: String) throws(AuthFailure) -> (alg: String, kid: String?) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, token.utf8.count <= 8_192,
              let data = Base64URL.decode(parts[0]),
              let header = try? JSONDecoder().decode(Header.self, from: data)
        else { throw .malformedToken }
        return (header.alg, header.kid)
    }

    /// The collection holding `kid`, refreshing the keys once when it is unknown, and in the
    /// background when they are older than ``maximumKeyAge``.
    private func collection(for kid: String) async throws(AuthFailure) -> JWTKeyCollection {
        let clock = ContinuousClock()
        let (known, stale) = cache.withLockedValue { cache in
            (cache.collections[kid], cache.lastRefresh.map { clock.now - $0 >= max(maximumKeyAge, minimumRefreshInterval) } ?? false)
        }
        if let known {
            if stale { _ = refreshTask() }
            return known
        }
        let shouldRefresh = cache.withLockedValue { cache in
            // A fetch under way: wait for it (fetches are coalesced). Otherwise an unknown kid
            // triggers one at most every minimumRefreshInterval once keys are loaded, and every
            // unavailableRetryInterval while none could be fetched yet.
            guard cache.inFlight == nil, let last = cache.lastRefresh else { return true }
            return clock.now - last >= (cache.loaded ? minimumRefreshInterval : unavailableRetryInterval)
        }
        if shouldRefresh { await refresh() }
        let (loaded, collection) = cache.withLockedValue { ($0.loaded, $0.collections[kid]) }
        guard loaded else { throw .keysUnavailable }
        guard let collection else { throw .unknownKey }
        return collection
    }

    /// Fetches the keys; concurrent callers share one fetch.
    private func refresh() async {
        await refreshTask().value
    }

    /// The fetch in flight, or a new one.
    private func refreshTask() -> Task<Void, Never> {
        cache.withLockedValue { cache -> Task<Void, Never> in
            if let running = cache.inFlight { return running }
            // Detached: not the triggering request's priority, trace or logging context.
            let task = Task.detached { await self.fetchKeys() }
            cache.inFlight = task
            return task
        }
    }

    private func fetchKeys() async {
        let clock = ContinuousClock()
        do {
            let keys = try await source.keys()
            var collections: [String: JWTKeyCollection] = [:]
            for key in keys {
                let collection = JWTKeyCollection()
                await collection.add(eddsa: EdDSA.PublicKey(backing: key.publicKey), kid: JWKIdentifier(string: key.id))
                collections[key.id] = collection
            }
            let changed = cache.withLockedValue { cache in
                defer {
                    cache.collections = collections
                    cache.loaded = true
                    cache.lastRefresh = clock.now
                    cache.inFlight = nil
                }
                return !cache.loaded || Set(cache.collections.keys) != Set(collections.keys)
            }
            // Every refresh (one per maximumKeyAge) at debug; a new key set at info.
            logger.log(level: changed ? .info : .debug, "token verification keys loaded", metadata: ["auth.key_ids": "\(keys.map(\.id).sorted())"])
        } catch {
            cache.withLockedValue { cache in
                cache.lastRefresh = clock.now
                cache.inFlight = nil
            }
            logger.warning("token verification keys could not be fetched", metadata: ["error": "\(error)"])
        }
    }
}
