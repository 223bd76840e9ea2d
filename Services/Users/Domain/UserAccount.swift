import Auth
import Foundation

/// A user as stored.
struct UserAccount: Sendable, Equatable {
    enum Status: String, Sendable, Codable {
        case active, suspended
    }

    let id: UUID
    let email: String
    let displayName: String
    let role: Role
    let status: Status
    let createdAt: Date

    /// The roles written into access tokens: an admin is also a customer.
    var roles: [Role] { role == .admin ? [.customer, .admin] : [.customer] }
}

/// A user as the API shows it.
struct UserResource: Encodable, Sendable {
    /// Lowercase, as in `Location`.
    let id: String
    let email: String
    let displayName: String
    let roles: [Role]
    let status: UserAccount.Status
    let createdAt: Date

    init(_ user: UserAccount) {
        id = user.id.uuidString.lowercased()
        email = user.email
        displayName = user.displayName
        roles = user.roles
        status = user.status
        createdAt = user.createdAt
    }

    enum CodingKeys: String, CodingKey {
        case id, email, roles, status
        case displayName = "display_name"
        case createdAt = "created_at"
    }
}
