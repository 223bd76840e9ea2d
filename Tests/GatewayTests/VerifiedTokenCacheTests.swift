import Auth
import Foundation
@testable import Gateway
import Testing

@Suite("Verified-token cache")
struct VerifiedTokenCacheTests {
    let now = Date(timeIntervalSince1970: 1_800_000_000)

    func identity(expiresIn seconds: TimeInterval) -> Identity {
        Identity(userID: UUID(), roles: [.customer], tokenID: UUID().uuidString, expiresAt: now.addingTimeInterval(seconds))
    }

    @Test("a token is served until it expires, then forgotten")
    func expiry() {
        let cache = VerifiedTokenCache(capacity: 10)
        let who = identity(expiresIn: 60)
        cache.remember(who, for: "token", now: now)
        #expect(cache.identity(of: "token", now: now.addingTimeInterval(59)) == who)
        #expect(cache.identity(of: "token", now: now.addingTimeInterval(60)) == nil)
        #expect(cache.count == 0)
        #expect(cache.identity(of: "other", now: now) == nil)
    }

    @Test("it never grows beyond its capacity; expired entries go first")
    func bounded() {
        let cache = VerifiedTokenCache(capacity: 3)
        cache.remember(identity(expiresIn: 1), for: "old", now: now)
        cache.remember(identity(expiresIn: 600), for: "a", now: now)
        cache.remember(identity(expiresIn: 600), for: "b", now: now)
        let later = now.addingTimeInterval(10)
        cache.remember(identity(expiresIn: 600), for: "c", now: later)
        #expect(cache.count == 3)
        #expect(cache.identity(of: "a", now: later) != nil && cache.identity(of: "c", now: later) != nil)
        for index in 0..<50 { cache.remember(identity(expiresIn: 600), for: "t\(index)", now: later) }
        #expect(cache.count <= 3)
    }

    @Test("capacity 0 disables it")
    func disabled() {
        let cache = VerifiedTokenCache(capacity: 0)
        cache.remember(identity(expiresIn: 60), for: "token", now: now)
        #expect(cache.identity(of: "token", now: now) == nil)
    }
}
