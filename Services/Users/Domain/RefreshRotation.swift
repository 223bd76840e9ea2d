import Foundation

/// What presenting a refresh token leads to, decided from the stored token alone (pure).
enum RefreshDecision: Equatable {
    /// Valid: mark it used and issue its successor in the same family.
    case rotate
    /// Already used: someone replays it, so the whole family is revoked.
    case reuseDetected
    /// Revoked but never used (logout, suspension, or an earlier reuse of its family): refused;
    /// nothing was replayed, so nothing more to revoke or report.
    case revoked
    /// Past its expiry.
    case expired
}

/// A stored refresh token's lifecycle fields.
struct StoredRefreshToken: Equatable {
    let id: UUID
    let familyID: UUID
    let userID: UUID
    let expiresAt: Date
    let usedAt: Date?
    let revokedAt: Date?

    func decide(now: Date) -> RefreshDecision {
        switch (usedAt, revokedAt) {
        case (.some, _):
            return .reuseDetected
        case (.none, .some):
            return .revoked
        case (.none, .none):
            return now < expiresAt ? .rotate : .expired
        }
    }
}
