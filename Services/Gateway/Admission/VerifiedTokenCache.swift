import Auth
import Foundation
import Synchronization

/// Bearer tokens whose signature and claims were already verified, kept until they expire, so
/// the gateway pays for an EdDSA verification once per token instead of once per request.
///
/// Revocation is not cached: it is checked in Redis on every request (see ``GatewayAdmission``).
/// The cache is bounded; when full, expired entries go first, then everything (a burst of
/// verifications is cheaper than unbounded memory under a token-spraying client).
final class VerifiedTokenCache: Sendable {
    private let capacity: Int
    private let entries = Mutex<[String: Identity]>([:])

    init(capacity: Int) {
        self.capacity = capacity
    }

    /// The cached identity of `token` if it is still valid at `now`.
    func identity(of token: String, now: Date) -> Identity? {
        guard capacity > 0 else { return nil }
        return entries.withLock { entries in
            guard let identity = entries[token] else { return nil }
            guard identity.expiresAt > now else {
                entries[token] = nil
                return nil
            }
            return identity
        }
    }

    /// Remembers a verified `identity` for `token`.
    func remember(_ identity: Identity, for token: String, now: Date) {
        guard capacity > 0 else { return }
        entries.withLock { entries in
            if entries.count >= capacity {
                entries = entries.filter { $0.value.expiresAt > now }
                if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            }
            entries[token] = identity
        }
    }

    /// How many tokens are cached.
    var count: Int { entries.withLock { $0.count } }
}
