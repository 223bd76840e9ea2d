import Auth
import Contracts
import Foundation
import Logging
import Outbox
import PostgresNIO
import ServiceKit

/// The `users.users` table, and the events its changes emit (in the same transaction).
struct UserStore: Sendable {
    let client: PostgresClient
    let outbox: Outbox
    let logger: Logger

    init(_ parts: DataServiceParts, logger: Logger) {
        self.init(client: parts.database.client, outbox: parts.messaging.outbox, logger: logger)
    }

    init(client: PostgresClient, outbox: Outbox, logger: Logger) {
        self.client = client
        self.outbox = outbox
        self.logger = logger
    }

    /// The email is registered already (compared case-insensitively).
    struct EmailTaken: Error {}

    /// Inserts the user and appends `user_registered`; throws ``EmailTaken`` on a duplicate.
    func register(_ registration: ValidRegistration, passwordHash: String, role: Role = .customer) async throws -> UserAccount {
        let id = UUID.v7()
        do {
            return try await client.withTransaction(logger: logger) { connection in
                let rows = try await connection.query("""
                    INSERT INTO users.users (id, email, password_hash, display_name, role)
                    VALUES (\(id), \(registration.email), \(passwordHash), \(registration.displayName), \(role.rawValue))
                    RETURNING created_at
                    """, logger: logger)
                var createdAt = Date()
                for try await (created) in rows.decode(Date.self) { createdAt = created }
                try await outbox.append(
                    UserRegistered(userID: id, email: registration.email, displayName: registration.displayName, registeredAt: createdAt),
                    on: connection, logger: logger
                )
                return UserAccount(id: id, email: registration.email, displayName: registration.displayName, role: role, status: .active, createdAt: createdAt)
            }
        } catch where PostgresErrorCode.sqlState(of: error) == PostgresErrorCode.uniqueViolation {
            throw EmailTaken()
        }
    }

    /// The user with `email` (case-insensitively) and their password hash.
    func credentials(email: String) async throws -> (UserAccount, passwordHash: String)? {
        let rows = try await client.query("""
            SELECT id, email, display_name, role, status, created_at, password_hash
            FROM users.users WHERE lower(email) = lower(\(email))
            """, logger: logger)
        for try await (id, email, name, role, status, created, hash) in rows.decode((UUID, String, String, String, String, Date, String).self) {
            return (try Self.account(id, email, name, role, status, created), hash)
        }
        return nil
    }

    /// The user with `id`.
    func find(_ id: UUID) async throws -> UserAccount? {
        try await find(id, on: nil)
    }

    /// The user with `id`, read on `connection` when given (inside a transaction).
    func find(_ id: UUID, on connection: PostgresConnection?) async throws -> UserAccount? {
        let query: PostgresQuery = "SELECT id, email, display_name, role, status, created_at FROM users.users WHERE id = \(id)"
        let rows = if let connection { try await connection.query(query, logger: logger) } else { try await client.query(query, logger: logger) }
        for try await (id, email, name, role, status, created) in rows.decode((UUID, String, String, String, String, Date).self) {
            return try Self.account(id, email, name, role, status, created)
        }
        return nil
    }

    /// Suspends the user, revokes their refresh tokens and appends `user_suspended`; a user
    /// already suspended is returned unchanged (no second event). Nil for an unknown user.
    func suspend(_ id: UUID, reason: String?) async throws -> UserAccount? {
        try await client.withTransaction(logger: logger) { connection in
            let rows = try await connection.query("""
                UPDATE users.users SET status = 'suspended' WHERE id = \(id) AND status = 'active' RETURNING now()
                """, logger: logger)
            var suspendedAt: Date?
            for try await at in rows.decode(Date.self) { suspendedAt = at }
            if let suspendedAt {
                try await connection.query("""
                    UPDATE users.refresh_tokens SET revoked_at = now() WHERE user_id = \(id) AND revoked_at IS NULL
                    """, logger: logger)
                try await outbox.append(UserSuspended(userID: id, reason: reason, suspendedAt: suspendedAt), on: connection, logger: logger)
            }
            return try await find(id, on: connection)
        }
    }

    /// What ``ensureAdmin(email:passwordHash:)`` found or did.
    enum BootstrapAdmin: Equatable {
        /// Created now, with the given password.
        case created
        /// An administrator with that email exists; its password is its own (the configured one
        /// applied only when it was created).
        case existed
        /// A user who is not an administrator has that email: there is no bootstrap administrator.
        case emailTakenByNonAdmin
        /// The administrator with that email is suspended: nothing unsuspends, so it cannot act.
        case suspended
    }

    /// Creates the bootstrap administrator unless a user with that email exists.
    func ensureAdmin(email: String, passwordHash: String) async throws -> BootstrapAdmin {
        func existing() async throws -> BootstrapAdmin? {
            try await credentials(email: email).map { account, _ in
                account.role != .admin ? .emailTakenByNonAdmin : account.status == .active ? .existed : .suspended
            }
        }
        if let found = try await existing() { return found }
        do {
            _ = try await register(ValidRegistration(email: email, password: "", displayName: "Administrator"), passwordHash: passwordHash, role: .admin)
            return .created
        } catch let taken as EmailTaken {
            // Registered in between (another users instance starting too).
            guard let found = try await existing() else { throw taken }
            return found
        }
    }

    struct CorruptRow: Error {}

    private static func account(_ id: UUID, _ email: String, _ name: String, _ role: String, _ status: String, _ created: Date) throws -> UserAccount {
        guard let role = Role(rawValue: role), let status = UserAccount.Status(rawValue: status) else { throw CorruptRow() }
        return UserAccount(id: id, email: email, displayName: name, role: role, status: status, createdAt: created)
    }
}
