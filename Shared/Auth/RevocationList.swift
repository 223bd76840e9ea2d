public import Foundation
public import Redis

/// Access tokens revoked before they expire (by logout), keyed by `jti`.
public protocol RevocationList: Sendable {
    /// Records `tokenID`, which expires at `expiresAt`, as revoked for as long as any verifier
    /// could still accept it: until `expiresAt` plus ``AuthSettings/maximumLeeway``.
    func revoke(tokenID: String, expiresAt: Date) async throws
    /// Whether `tokenID` was revoked.
    func isRevoked(tokenID: String) async throws -> Bool
}

/// Revocations in Redis: `orderflow:auth:revoked:<jti>`, expiring once the token can no longer
/// be accepted anywhere (its `exp` plus the largest leeway a verifier may allow), so the gateway
/// and every service see a logout at once and for as long as it matters.
public struct RedisRevocationList: RevocationList {
    private let redis: RedisClient

    /// Uses `redis`.
    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// The Redis key that marks `tokenID` revoked.
    public static func key(_ tokenID: String) -> String { "orderflow:auth:revoked:\(tokenID)" }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let acceptedUntil = expiresAt.addingTimeInterval(TimeInterval(AuthSettings.maximumLeeway.components.seconds))
        let remaining = Int64((acceptedUntil.timeIntervalSinceNow * 1_000).rounded(.up))
        guard remaining > 0 else { return }
        _ = try await redis.execute(RedisCommand("SET", [.text(Self.key(tokenID)), "1", "PX", .integer(remaining)]))
    }

    public func isRevoked(tokenID: String) async throws -> Bool {
        try await redis.execute(RedisCommand("EXISTS", [.text(Self.key(tokenID))])).integer == 1
    }
}
