import Auth
import Foundation
import Hummingbird
import Logging
import ServiceKit

/// The users HTTP API: registration, tokens, profile, suspension and the JWKS.
struct UsersAPI: Sendable {
    let users: UserStore
    let refreshTokens: RefreshTokenStore
    let issuer: TokenIssuer
    let authenticator: Authenticator
    let revocations: any RevocationList
    let hasher: PasswordHasher
    let jwks: JSONWebKeySet
    /// Checked when the email is unknown, so that a login takes as long either way.
    let decoyHash: String

    func addRoutes(to router: Router<AppRequestContext>) {
        router.get(".well-known/jwks.json") { _, _ in try jwksResponse() }
        let api = router.group("api/v1")
        api.post("users") { request, _ in try await register(request) }
        api.get("users/me") { request, _ in try await me(request) }
        api.get("users/:id") { request, context in try await user(request, id: try context.uuidParameter("id")) }
        api.post("users/:id/suspend") { request, context in try await suspend(request, id: try context.uuidParameter("id")) }
        api.post("auth/tokens") { request, _ in try await login(request) }
        api.post("auth/refresh") { request, _ in try await refresh(request) }
        api.post("auth/logout") { request, _ in try await logout(request) }
    }

    private func register(_ request: Request) async throws -> Response {
        let registration = try RegistrationRules.validate(try await JSONBody.decode(RegistrationRequest.self, from: request))
        let hash = try await hasher.hash(registration.password)
        do {
            let user = try await users.register(registration, passwordHash: hash)
            return try JSONBody.response(UserResource(user), status: .created, headers: [.location: "/api/v1/users/\(user.id.uuidString.lowercased())"])
        } catch is UserStore.EmailTaken {
            throw ProblemDetails(
                status: .conflict, type: "/problems/email-taken", title: "Email already registered",
                detail: "An account with this email exists; log in instead.", errors: [.init(field: "email", message: "is already registered")]
            )
        }
    }

    private func login(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(LoginRequest.self, from: request)
        guard let (user, hash) = try await users.credentials(email: body.email.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            _ = try await hasher.verify(body.password, hash: decoyHash)
            throw Self.badCredentials
        }
        guard try await hasher.verify(body.password, hash: hash) else { throw Self.badCredentials }
        guard user.status == .active else { throw Self.suspended }
        return try await tokens(for: user, refreshToken: try await refreshTokens.startFamily(for: user.id))
    }

    private func refresh(_ request: Request) async throws -> Response {
        let body = try await JSONBody.decode(RefreshRequest.self, from: request)
        switch try await refreshTokens.rotate(body.refreshToken) {
        case .rotated(let userID, let next):
            guard let user = try await users.find(userID), user.status == .active else { throw Self.suspended }
            return try await tokens(for: user, refreshToken: next)
        case .refused:
            throw ProblemDetails(status: .unauthorized, type: "/problems/unauthorized", title: "Unauthorized",
                                 detail: "The refresh token is invalid, expired or already used; log in again.")
        }
    }

    /// Revokes the access token (in Redis until it expires) and, when given, the refresh
    /// token's family.
    private func logout(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        var request = request
        let body = try await request.collectBody(upTo: JSONBody.maximumRequestBytes)
        if body.readableBytes > 0 {
            let refresh = try JSONBody.decode(RefreshRequest.self, from: Data(buffer: body))
            try await refreshTokens.revokeFamily(of: refresh.refreshToken, userID: identity.userID)
        }
        do {
            try await revocations.revoke(tokenID: identity.tokenID, expiresAt: identity.expiresAt)
        } catch {
            throw ProblemDetails(status: .serviceUnavailable, type: "/problems/logout-incomplete", title: "Logout incomplete",
                                 detail: "The access token could not be revoked; retry the logout.")
        }
        return Response(status: .noContent)
    }

    private func me(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        guard let user = try await users.find(identity.userID) else { throw Self.notFound }
        return try JSONBody.response(UserResource(user))
    }

    private func user(_ request: Request, id: UUID) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        guard identity.userID == id || identity.isAdmin else {
            throw ProblemDetails(status: .forbidden, type: "/problems/forbidden", title: "Forbidden", detail: "You may only read your own account.")
        }
        guard let user = try await users.find(id) else { throw Self.notFound }
        return try JSONBody.response(UserResource(user))
    }

    private func suspend(_ request: Request, id: UUID) async throws -> Response {
        _ = try await authenticator.admin(of: request)
        var request = request
        let body = try await request.collectBody(upTo: JSONBody.maximumRequestBytes)
        let reason = body.readableBytes > 0 ? try JSONBody.decode(SuspendRequest.self, from: Data(buffer: body)).reason : nil
        guard let user = try await users.suspend(id, reason: reason) else { throw Self.notFound }
        return try JSONBody.response(UserResource(user))
    }

    private func tokens(for user: UserAccount, refreshToken: String) async throws -> Response {
        let issued = try await issuer.issue(userID: user.id, roles: user.roles)
        let body = TokenResponse(accessToken: issued.token, expiresIn: Int(issuer.lifetime.components.seconds), refreshToken: refreshToken)
        return try JSONBody.response(body, headers: [.cacheControl: "no-store"])
    }

    private func jwksResponse() throws -> Response {
        var response = Response(status: .ok, headers: [.contentType: "application/json", .cacheControl: "max-age=60"],
                                body: .init(byteBuffer: ByteBuffer(data: try jwks.encoded())))
        response.headers[.accessControlAllowOrigin] = "*"
        return response
    }

    private static let badCredentials = ProblemDetails(
        status: .unauthorized, type: "/problems/invalid-credentials", title: "Invalid credentials", detail: "The email or password is wrong."
    )
    private static let suspended = ProblemDetails(
        status: .forbidden, type: "/problems/account-suspended", title: "Account suspended", detail: "This account is suspended."
    )
    private static let notFound = ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such user.")
}
