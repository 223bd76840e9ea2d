public import Foundation
public import Redis

/// Access tokens revoked before they expire: one by its `jti` (logout), or all of a user's
/// (suspension).
public protocol RevocationList: Sendable {
    /// Records `tokenID`, which expires at `expiresAt`, as revoked for as long as any verifier
    /// could still accept it: until `expiresAt` plus ``AuthSettings/maximumLeeway``.
    func revoke(tokenID: String, expiresAt: Date) async throws
    /// Records every access token of `userID` as revoked for as long as one issued now could be
    /// accepted: `lifetime` (the access tokens' lifetime) plus ``AuthSettings/maximumLeeway``.
    /// For a suspended user, who gets no new token in that time (login and refresh refuse them).
    func revokeAll(of userID: UUID, lifetime: Duration) async throws
    /// Whether `tokenID`, or every token of `userID`, was revoked.
    func isRevoked(tokenID: String, userID: UUID) async throws -> Bool
}

/// Revocations in Redis: `orderflow:auth:revoked:<jti>` and `orderflow:auth:revoked-user:<id>`,
/// expiring once the tokens they name can no longer be accepted anywhere (their `exp` plus the
/// largest leeway a verifier may allow), so the gateway and every service see a logout or a
/// suspension at once and for as long as it matters. Both are checked in one `EXISTS`.
public struct RedisRevocationList: RevocationList {
    private let redis: RedisClient

    /// Uses `redis`.
    public init(redis: RedisClient) {
        self.redis = redis
    }

    /// The Redis key that marks `tokenID` revoked.
    public static func key(_ tokenID: String) -> String { "orderflow:auth:revoked:\(tokenID)" }

    /// The Redis key that marks every token of `userID` revoked.
    public static func key(user userID: UUID) -> String { "orderflow:auth:revoked-user:\(userID.uuidString.lowercased())" }

    /// The keys whose existence revokes `tokenID` of `userID`.
    public static func keys(tokenID: String, userID: UUID) -> [String] { [key(tokenID), key(user: userID)] }

    public func revoke(tokenID: String, expiresAt: Date) async throws {
        let acceptedUntil = expiresAt.addingTimeInterval(TimeInterval(AuthSettings.maximumLeeway.components.seconds))
        let remaining = Int64((acceptedUntil.timeIntervalSinceNow * 1_000).rounded(.up))
        guard remaining > 0 else { return }
        _ = try await redis.execute(RedisCommand("SET", [.text(Self.key(tokenID)), "1", "PX", .integer(remaining)]))
    }

    public func revokeAll(of userID: UUID, lifetime: Duration) async throws {
        let remaining = (lifetime + AuthSettings.maximumLeeway).components.seconds * 1_000
        _ = try await redis.execute(RedisCommand("SET", [.text(Self.key(user: userID)), "1", "PX", .integer(remaining)]))
    }

    public func isRevoked(tokenID: String, userID: UUID) async throws -> Bool {
        (try await redis.execute(RedisCommand("EXISTS", Self.keys(tokenID: tokenID, userID: userID).map { .text($0) })).integer ?? 0) > 0
    }
}
