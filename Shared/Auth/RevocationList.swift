public import Foundation
public import Redis

/// Access tokens revoked before they expire (by logout), keyed by `jti`.
public protocol RevocationList: Sendable {
    /// Records `tokenID` as revoked until `expiresAt` (after which the token is refused anyway).
    func revoke(tokenID: String, expiresAt: Date) async throws
    /// Whether `tokenID` was revoked.
    func isRevoked(tokenID: String) async throws -> Bool
}

/// Revocations in Redis: `orderflow:auth:revoked:<jti>`, expiring with the token, so the
/// gateway and every service see a logout at once.
public struct RedisRevocationList: RevocationList {
    private let redis: RedisClient

    /// Uses `redis`.
    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// The Redis key that marks `tokenID` revoked.
    public static func key(_ tokenID: String) -> String { "orderflow:auth:revoked:\(tokenID)" }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let remaining = Int64((expiresAt.timeIntervalSinceNow * 1_000).rounded(.up))
        guard remaining > 0 else { return }
        _ = try await redis.execute(RedisCommand("SET", [.text(Self.key(tokenID)), "1", "PX", .integer(remaining)]))
    }

    public func isRevoked(tokenID: String) async throws -> Bool {
        try await redis.execute(RedisCommand("EXISTS", [.text(Self.key(tokenID))])).integer == 1
    }
}
