import Auth
import Foundation
import Logging
import OpenAPIRuntime
import ServiceKit

/// The users HTTP API — registration, tokens, profile, suspension and the JWKS — as the
/// implementation of the `APIProtocol` generated from the `users` tag of the contract
/// (`openapi-generator-config.yaml`).
struct UsersAPI: APIProtocol {
    /// Who may call each operation (``OperationAccess``); the gate verifies before the request is read.
    static let access: [String: OperationAccess] = [
        Operations.registerUser.id: .anonymous, Operations.createTokens.id: .anonymous,
        Operations.refreshTokens.id: .anonymous, Operations.getJwks.id: .anonymous,
        Operations.getCurrentUser.id: .authenticated, Operations.getUser.id: .authenticated,
        Operations.logout.id: .authenticated, Operations.suspendUser.id: .admin,
    ]

    let users: UserStore
    let refreshTokens: RefreshTokenStore
    let issuer: TokenIssuer
    let revocations: any RevocationList
    let hasher: PasswordHasher
    let jwks: JSONWebKeySet
    /// Checked when the email is unknown, so that a login takes as long either way.
    let decoyHash: String

    private var requestID: String { CurrentRequest.requestID }

    func registerUser(_ input: Operations.registerUser.Input) async throws -> Operations.registerUser.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        let registration = try RegistrationRules.validate(RegistrationRequest(email: body.email, password: body.password, displayName: body.display_name))
        let hash = try await hasher.hash(registration.password)
        do {
            let user = try await users.register(registration, passwordHash: hash)
            let headers = Operations.registerUser.Output.Created.Headers(
                X_hyphen_Request_hyphen_ID: requestID, Location: "/api/v1/users/\(user.id.uuidString.lowercased())")
            return .created(.init(headers: headers, body: .json(try ContractServer.bridge(UserResource(user)))))
        } catch is UserStore.EmailTaken {
            throw ProblemDetails(
                status: .conflict, type: "/problems/email-taken", title: "Email already registered",
                detail: "An account with this email exists; log in instead.", errors: [.init(field: "email", message: "is already registered")]
            )
        }
    }

    func createTokens(_ input: Operations.createTokens.Input) async throws -> Operations.createTokens.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        let email = body.email.trimmingCharacters(in: .whitespacesAndNewlines)
        // No account's email or password holds a NUL (registration refuses them; Postgres text
        // cannot store one, and bcrypt would stop reading at it): such a login is just wrong.
        guard !email.contains("\0"), !body.password.contains("\0"), let (user, hash) = try await users.credentials(email: email) else {
            _ = try await hasher.verify(body.password, hash: decoyHash)
            throw Self.badCredentials
        }
        guard try await hasher.verify(body.password, hash: hash) else { throw Self.badCredentials }
        guard user.status == .active else { throw Self.suspended }
        return .ok(try await tokens(for: user, refreshToken: try await refreshTokens.startFamily(for: user.id)))
    }

    func refreshTokens(_ input: Operations.refreshTokens.Input) async throws -> Operations.refreshTokens.Output {
        guard case .json(let body) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        switch try await refreshTokens.rotate(body.refresh_token) {
        case .rotated(let userID, let next):
            guard let user = try await users.find(userID), user.status == .active else { throw Self.suspended }
            return .ok(try await tokens(for: user, refreshToken: next))
        case .refused:
            throw ProblemDetails(status: .unauthorized, type: "/problems/unauthorized", title: "Unauthorized",
                                 detail: "The refresh token is invalid, expired or already used; log in again.")
        }
    }

    /// Revokes the access token (in Redis until it expires) and, when given, the refresh
    /// token's family.
    func logout(_ input: Operations.logout.Input) async throws -> Operations.logout.Output {
        let identity = try Identity.caller()
        if case .json(let body) = input.body {
            try await refreshTokens.revokeFamily(of: body.refresh_token, userID: identity.userID)
        }
        do {
            try await revocations.revoke(tokenID: identity.tokenID, expiresAt: identity.expiresAt)
        } catch {
            throw ProblemDetails(status: .serviceUnavailable, type: "/problems/logout-incomplete", title: "Logout incomplete",
                                 detail: "The access token could not be revoked; retry the logout.")
        }
        return .noContent(.init(headers: .init(X_hyphen_Request_hyphen_ID: requestID)))
    }

    func getCurrentUser(_ input: Operations.getCurrentUser.Input) async throws -> Operations.getCurrentUser.Output {
        let identity = try Identity.caller()
        guard let user = try await users.find(identity.userID) else { throw Self.notFound }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: requestID), body: .json(try ContractServer.bridge(UserResource(user)))))
    }

    func getUser(_ input: Operations.getUser.Input) async throws -> Operations.getUser.Output {
        let identity = try Identity.caller()
        let id = try UUID.pathParameter(input.path.id, name: "id")
        guard identity.userID == id || identity.isAdmin else {
            throw ProblemDetails(status: .forbidden, type: "/problems/forbidden", title: "Forbidden", detail: "You may only read your own account.")
        }
        guard let user = try await users.find(id) else { throw Self.notFound }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: requestID), body: .json(try ContractServer.bridge(UserResource(user)))))
    }

    func suspendUser(_ input: Operations.suspendUser.Input) async throws -> Operations.suspendUser.Output {
        _ = try Identity.admin()
        let id = try UUID.pathParameter(input.path.id, name: "id")
        var reason: String?
        if case .json(let body) = input.body { reason = body.reason }
        guard let user = try await users.suspend(id, reason: reason) else { throw Self.notFound }
        // The access tokens the user holds stop working at once, everywhere (not at their expiry).
        do {
            try await revocations.revokeAll(of: id, lifetime: UsersSettings.longestAccessTokenLifetime)
        } catch {
            throw ProblemDetails(status: .serviceUnavailable, type: "/problems/suspension-incomplete", title: "Suspension incomplete",
                                 detail: "The account is suspended, but its access tokens could not be revoked; retry the suspension.")
        }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: requestID), body: .json(try ContractServer.bridge(UserResource(user)))))
    }

    func getJwks(_ input: Operations.getJwks.Input) async throws -> Operations.getJwks.Output {
        let headers = Operations.getJwks.Output.Ok.Headers(
            X_hyphen_Request_hyphen_ID: requestID, Cache_hyphen_Control: "max-age=60", Access_hyphen_Control_hyphen_Allow_hyphen_Origin: "*")
        return .ok(.init(headers: headers, body: .json(try ContractServer.bridge(jwks))))
    }

    private func tokens(for user: UserAccount, refreshToken: String) async throws -> Components.Responses.Tokens {
        let issued = try await issuer.issue(userID: user.id, roles: user.roles)
        let body = TokenResponse(accessToken: issued.token, expiresIn: Int(issuer.lifetime.components.seconds), refreshToken: refreshToken)
        return .init(headers: .init(X_hyphen_Request_hyphen_ID: requestID, Cache_hyphen_Control: "no-store"), body: .json(try ContractServer.bridge(body)))
    }

    private static let badCredentials = ProblemDetails(
        status: .unauthorized, type: "/problems/invalid-credentials", title: "Invalid credentials", detail: "The email or password is wrong."
    )
    private static let suspended = ProblemDetails(
        status: .forbidden, type: "/problems/account-suspended", title: "Account suspended", detail: "This account is suspended."
    )
    private static let notFound = ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such user.")
}
