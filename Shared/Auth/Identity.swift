public import Foundation

/// Who a verified access token speaks for.
public struct Identity: Sendable, Equatable {
    /// The user (`sub`).
    public let userID: UUID
    /// The user's roles.
    public let roles: Set<Role>
    /// The token's id (`jti`), the key under which it is revoked.
    public let tokenID: String
    /// When the token expires (`exp`).
    public let expiresAt: Date

    /// Creates an identity.
    public init(userID: UUID, roles: Set<Role>, tokenID: String, expiresAt: Date) {
        self.userID = userID
        self.roles = roles
        self.tokenID = tokenID
        self.expiresAt = expiresAt
    }

    /// Whether the identity holds the `admin` role.
    public var isAdmin: Bool { roles.contains(.admin) }
}
