import Auth
import Crypto
import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// Opaque refresh tokens: 32 random bytes (base64url) handed out once, stored as SHA-256.
struct RefreshTokenStore: Sendable {
    let client: PostgresClient
    let lifetime: Duration
    let logger: Logger

    /// The outcome of presenting a refresh token.
    enum Rotation: Equatable {
        /// A new refresh token for the same user (the presented one is now used).
        case rotated(userID: UUID, refreshToken: String)
        /// The token is unknown, expired, or was replayed (its family is now revoked).
        case refused(RefreshDecision?)
    }

    /// Starts a new family for `userID` (a login) and returns its first token.
    func startFamily(for userID: UUID) async throws -> String {
        try await client.withConnection { connection in
            try await insert(userID: userID, familyID: UUID(), on: connection)
        }
    }

    /// Rotates `token`: the stored token is locked, decided on, and either replaced (its
    /// successor joins the family) or, when replayed, its whole family revoked. The family is
    /// locked first (``lockFamily(_:on:)``).
    func rotate(_ token: String) async throws -> Rotation {
        try await client.withTransaction(logger: logger) { connection in
            guard let family = try await family(ofHash: Self.hash(token), userID: nil, on: connection) else { return .refused(nil) }
            try await lockFamily(family, on: connection)
            let rows = try await connection.query("""
                SELECT id, family_id, user_id, expires_at, used_at, revoked_at FROM users.refresh_tokens
                WHERE token_hash = \(Self.hash(token)) FOR UPDATE
                """, logger: logger)
            var stored: StoredRefreshToken?
            for try await (id, family, user, expires, used, revoked) in rows.decode((UUID, UUID, UUID, Date, Date?, Date?).self) {
                stored = StoredRefreshToken(id: id, familyID: family, userID: user, expiresAt: expires, usedAt: used, revokedAt: revoked)
            }
            guard let stored else { return .refused(nil) }
            let decision = stored.decide(now: Date())
            switch decision {
            case .rotate:
                try await connection.query("UPDATE users.refresh_tokens SET used_at = now() WHERE id = \(stored.id)", logger: logger)
                let next = try await insert(userID: stored.userID, familyID: stored.familyID, on: connection)
                return .rotated(userID: stored.userID, refreshToken: next)
            case .reuseDetected:
                try await revokeFamily(stored.familyID, on: connection)
                logger.warning("refresh token reuse detected; family revoked", metadata: ["user.id": "\(stored.userID)", "token.family": "\(stored.familyID)"])
                return .refused(decision)
            case .expired, .revoked:
                return .refused(decision)
            }
        }
    }

    /// Revokes every token of the family `token` belongs to, if it belongs to `userID`. The
    /// family is locked first, so a rotation in flight either commits its successor before the
    /// revocation reads the family, or reads the revoked token after it.
    func revokeFamily(of token: String, userID: UUID) async throws {
        try await client.withTransaction(logger: logger) { connection in
            guard let family = try await family(ofHash: Self.hash(token), userID: userID, on: connection) else { return }
            try await lockFamily(family, on: connection)
            try await revokeFamily(family, on: connection)
        }
    }

    /// The family of the token whose hash is `hash` (and whose user is `userID`, when given).
    private func family(ofHash hash: Data, userID: UUID?, on connection: PostgresConnection) async throws -> UUID? {
        for try await (family,) in try await connection.query("""
            SELECT family_id FROM users.refresh_tokens WHERE token_hash = \(hash) AND (\(userID)::uuid IS NULL OR user_id = \(userID))
            """, logger: logger).decode((UUID,).self) {
            return family
        }
        return nil
    }

    /// Serialises the rotations and the revocation of one family until the transaction ends.
    /// Without it a logout racing a refresh could miss the successor: the revocation's `UPDATE`
    /// reads the family's rows once, while the rotation's successor is not yet committed, and it
    /// stayed valid for the refresh token's whole lifetime.
    private func lockFamily(_ family: UUID, on connection: PostgresConnection) async throws {
        try await TransactionLock.take("orderflow.users.refresh_family", key: family.uuidString.lowercased(), on: connection, logger: logger)
    }

    private func revokeFamily(_ familyID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE users.refresh_tokens SET revoked_at = now() WHERE family_id = \(familyID) AND revoked_at IS NULL
            """, logger: logger)
    }

    private func insert(userID: UUID, familyID: UUID, on connection: PostgresConnection) async throws -> String {
        let token = Self.newToken()
        let expiresAt = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        try await connection.query("""
            INSERT INTO users.refresh_tokens (id, family_id, user_id, token_hash, expires_at)
            VALUES (\(UUID()), \(familyID), \(userID), \(Self.hash(token)), \(expiresAt))
            """, logger: logger)
        return token
    }

    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: .min ... .max, using: &generator) }
        return Base64URL.encode(bytes)
    }

    static func hash(_ token: String) -> Data {
        Data(SHA256.hash(data: Data(token.utf8)))
    }
}

