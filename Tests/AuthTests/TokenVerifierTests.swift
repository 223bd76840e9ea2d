import Auth
import Crypto
import Foundation
import Logging
import TestSupport
import Testing

/// The verifier's decisions, with keys in memory and a clock the test moves: no I/O.
@Suite("Token verification")
struct TokenVerifierTests {
    let key = SigningKey.generate(id: "k1")
    let user = UUID()
    let now = Date(timeIntervalSince1970: 1_800_000_000)
    static let quiet = Logger(label: "test") { _ in SwiftLogNoOpLogHandler() }

    func verifier(keys: [VerificationKey]? = nil, at time: Date? = nil, source: (any VerificationKeySource)? = nil) -> TokenVerifier {
        let clock = time ?? now
        return TokenVerifier(
            issuer: "orderflow-users", audience: "orderflow", keys: source ?? StaticVerificationKeys(keys ?? [key.publicKey]),
            leeway: .seconds(30), now: { clock }, logger: Self.quiet
        )
    }

    func issue(with signing: SigningKey? = nil, issuer: String = "orderflow-users", audience: String = "orderflow", at time: Date? = nil) async throws -> String {
        let issuer = await TokenIssuer(issuer: issuer, audience: audience, lifetime: .seconds(900), key: signing ?? key)
        return try await issuer.issue(userID: user, roles: [.customer, .admin], now: time ?? now).token
    }

    @Test("a token the issuer signed verifies, with its subject, roles and expiry")
    func roundTrip() async throws {
        let identity = try await verifier().verify(try await issue())
        #expect(identity.userID == user)
        #expect(identity.roles == [.customer, .admin])
        #expect(identity.isAdmin)
        #expect(identity.expiresAt == now.addingTimeInterval(900))
        #expect(!identity.tokenID.isEmpty)
    }

    @Test("expiry and not-before are checked against the clock, with the leeway")
    func time() async throws {
        let token = try await issue()
        #expect(try await verifier(at: now.addingTimeInterval(900 + 29)).verify(token).userID == user)
        await #expect(throws: AuthFailure.expired) { try await verifier(at: now.addingTimeInterval(900 + 31)).verify(token) }
        await #expect(throws: AuthFailure.notYetValid) { try await verifier(at: now.addingTimeInterval(-60)).verify(token) }
    }

    @Test("issuer and audience must match")
    func issuerAndAudience() async throws {
        await #expect(throws: AuthFailure.wrongIssuer) { try await verifier().verify(try await issue(issuer: "someone")) }
        await #expect(throws: AuthFailure.wrongAudience) { try await verifier().verify(try await issue(audience: "elsewhere")) }
    }

    @Test("an unknown key id, a foreign key under a known id, and a broken token are refused")
    func keys() async throws {
        await #expect(throws: AuthFailure.unknownKey) { try await verifier().verify(try await issue(with: .generate(id: "k2"))) }
        await #expect(throws: AuthFailure.invalidSignature) { try await verifier().verify(try await issue(with: .generate(id: "k1"))) }
        await #expect(throws: AuthFailure.malformedToken) { try await verifier().verify("a.b") }
        await #expect(throws: AuthFailure.malformedToken) { try await verifier().verify("!!.??.##") }
    }

    @Test("a retired key still verifies the tokens it signed; a rotated-in key is fetched on first sight")
    func rotation() async throws {
        let next = SigningKey.generate(id: "k2")
        let old = try await issue()
        let fresh = try await issue(with: next)
        let both = verifier(keys: [next.publicKey, key.publicKey])
        #expect(try await both.verify(old).userID == user)
        #expect(try await both.verify(fresh).userID == user)

        let source = ChangingKeys([key.publicKey])
        let refreshing = TokenVerifier(
            issuer: "orderflow-users", audience: "orderflow", keys: source, minimumRefreshInterval: .zero, now: { now }, logger: Self.quiet
        )
        #expect(try await refreshing.verify(old).userID == user)
        source.set([key.publicKey, next.publicKey])
        #expect(try await refreshing.verify(fresh).userID == user)
        #expect(source.fetches == 2)
    }

    @Test("a key the issuer stops publishing stops verifying once the keys are older than maximumKeyAge (refreshed in the background)")
    func retiredKey() async throws {
        let next = SigningKey.generate(id: "k2")
        let old = try await issue()
        let fresh = try await issue(with: next)
        let source = ChangingKeys([next.publicKey, key.publicKey])
        let verifier = TokenVerifier(
            issuer: "orderflow-users", audience: "orderflow", keys: source, minimumRefreshInterval: .zero, maximumKeyAge: .milliseconds(20),
            now: { now }, logger: Self.quiet
        )
        #expect(try await verifier.verify(old).userID == user)
        #expect(try await verifier.verify(fresh).userID == user)
        source.set([next.publicKey])  // k1 retired (or leaked)
        try await Poll.until("the retired key is refused", deadline: .seconds(30)) {
            do {
                _ = try await verifier.verify(old)
                return false
            } catch {
                return (error as? AuthFailure) == .unknownKey
            }
        }
        #expect(try await verifier.verify(fresh).userID == user, "the key still published keeps verifying")
        #expect(source.fetches >= 2)
    }

    @Test("concurrent first verifications share one key fetch and all succeed")
    func coalescedFirstFetch() async throws {
        let source = SlowKeys([key.publicKey])
        let verifier = verifier(source: source)
        let token = try await issue()
        try await withThrowingTaskGroup(of: UUID.self) { group in
            for _ in 0..<16 { group.addTask { try await verifier.verify(token).userID } }
            for try await id in group { #expect(id == user) }
        }
        #expect(source.fetches == 1)
    }

    @Test("keys that cannot be fetched answer 503, not 401")
    func keysUnavailable() async throws {
        await #expect(throws: AuthFailure.keysUnavailable) { try await verifier(source: FailingKeys()).verify(try await issue()) }
        #expect(AuthFailure.keysUnavailable.problem.status == 503)
        #expect(AuthFailure.expired.problem.status == 401)
    }

    @Test("while the keys were never fetched, a failed fetch is retried at most every unavailableRetryInterval, then verification recovers")
    func unavailableKeysThrottled() async throws {
        let token = try await issue()
        let down = FlakyKeys([key.publicKey], failing: true)
        let patient = TokenVerifier(
            issuer: "orderflow-users", audience: "orderflow", keys: down, unavailableRetryInterval: .seconds(600), now: { now }, logger: Self.quiet
        )
        for _ in 0..<20 {
            await #expect(throws: AuthFailure.keysUnavailable) { try await patient.verify(token) }
        }
        #expect(down.fetches == 1, "one fetch, then fast refusals")
        down.failing = false
        await #expect(throws: AuthFailure.keysUnavailable, "still inside the interval") { try await patient.verify(token) }
        #expect(down.fetches == 1)

        let eager = FlakyKeys([key.publicKey], failing: true)
        let retrying = TokenVerifier(
            issuer: "orderflow-users", audience: "orderflow", keys: eager, unavailableRetryInterval: .milliseconds(10), now: { now }, logger: Self.quiet
        )
        await #expect(throws: AuthFailure.keysUnavailable) { try await retrying.verify(token) }
        eager.failing = false
        try await Poll.until("the keys are fetched again once the interval passed", deadline: .seconds(30)) {
            (try? await retrying.verify(token))?.userID == user
        }
        #expect(eager.fetches >= 2)
    }

    @Test("the header's algorithm is pinned to EdDSA")
    func algorithmPinned() async throws {
        let token = try await issue()
        let parts = token.split(separator: ".").map(String.init)
        for alg in ["none", "HS256", "RS256", "ES256"] {
            let header = Base64URL.encode(Data(#"{"alg":"\#(alg)","kid":"k1","typ":"JWT"}"#.utf8))
            await #expect(throws: AuthFailure.algorithmNotAllowed(alg)) { try await verifier().verify([header, parts[1], parts[2]].joined(separator: ".")) }
        }
    }
}

final class ChangingKeys: VerificationKeySource, @unchecked Sendable {
    private let lock = NSLock()
    private var keys: [VerificationKey]
    private var count = 0
    init(_ keys: [VerificationKey]) { self.keys = keys }
    var fetches: Int { lock.withLock { count } }
    func set(_ keys: [VerificationKey]) { lock.withLock { self.keys = keys } }
    func keys() async throws -> [VerificationKey] { lock.withLock { count += 1; return keys } }
}

final class SlowKeys: VerificationKeySource, @unchecked Sendable {
    private let lock = NSLock()
    private let keys: [VerificationKey]
    private var count = 0
    init(_ keys: [VerificationKey]) { self.keys = keys }
    var fetches: Int { lock.withLock { count } }
    func keys() async throws -> [VerificationKey] {
        lock.withLock { count += 1 }
        try await Task.sleep(for: .milliseconds(200))
        return keys
    }
}

struct FailingKeys: VerificationKeySource {
    struct Down: Error {}
    func keys() async throws -> [VerificationKey] { throw Down() }
}

/// Keys whose fetch fails while `failing` is set; counts fetches.
final class FlakyKeys: VerificationKeySource, @unchecked Sendable {
    struct Down: Error {}
    private let lock = NSLock()
    private let keys: [VerificationKey]
    private var count = 0
    private var down: Bool
    init(_ keys: [VerificationKey], failing: Bool) {
        self.keys = keys
        self.down = failing
    }
    var fetches: Int { lock.withLock { count } }
    var failing: Bool {
        get { lock.withLock { down } }
        set { lock.withLock { down = newValue } }
    }
    func keys() async throws -> [VerificationKey] {
        try lock.withLock {
            count += 1
            if down { throw Down() }
            return keys
        }
    }
}
