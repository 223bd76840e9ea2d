import Auth
import Contracts
import Foundation
import Logging
import OpenAPIHummingbird
import Outbox
import Redis
import ServiceKit

/// Builds the `users` service: accounts, tokens (EdDSA JWTs and rotating refresh tokens),
/// the JWKS, and the `validate_customer` participant of the PlaceOrder saga.
///
/// Settings beyond the common ones: `DATABASE_URL`, `KAFKA_BROKERS`, `REDIS_URL` (revoked
/// tokens) and `JWT_SIGNING_KEYS` (or `JWT_SIGNING_KEYS_FILE`); optional `JWT_*`,
/// `REFRESH_TOKEN_TTL_HOURS`, `BCRYPT_COST`, `USERS_ADMIN_EMAIL`/`USERS_ADMIN_PASSWORD`.
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let users = try UsersSettings.read(from: settings)
    let redis = RedisClient(configuration: RedisConfiguration(settings: try RedisSettings.read(from: settings)), logger: logger)
    let revocations = RedisRevocationList(redis: redis)
    let signing = users.signingKeys[0]
    let issuer = await TokenIssuer(issuer: users.auth.issuer, audience: users.auth.audience, lifetime: users.accessTokenLifetime, key: signing)
    let verifier = TokenVerifier(
        issuer: users.auth.issuer, audience: users.auth.audience,
        keys: StaticVerificationKeys(users.signingKeys.map(\.publicKey)), leeway: users.auth.leeway, logger: logger
    )
    let hasher = PasswordHasher(cost: users.bcryptCost)
    let decoyHash = try await hasher.hash(RefreshTokenStore.newToken())

    var (app, parts) = try ServiceApplication.dataService(
        common, schema: "users", settings: settings, migrationsDirectory: Bundle.module.migrationsDirectory(),
        consumers: ["users"],
        // A family whose every token is a day past its expiry: no token of it can be used, and
        // none can be replayed to give a thief away (a used token of a live family still can,
        // so it stays until the family's last token expires).
        expiredRows: [ExpiredRows(table: "users.refresh_tokens", key: "id", condition: """
            expires_at < now() - interval '1 day' AND family_id NOT IN (
                SELECT family_id FROM users.refresh_tokens WHERE expires_at >= now() - interval '1 day')
            """)],
        logger: logger
    ) { router, parts in
        try UsersAPI(
            users: UserStore(parts, logger: logger),
            refreshTokens: RefreshTokenStore(client: parts.database.client, lifetime: users.refreshTokenLifetime, logger: logger),
            issuer: issuer,
            revocations: revocations, hasher: hasher, jwks: JSONWebKeySet(users.signingKeys.map(\.publicKey)), decoyHash: decoyHash
        )
        .registerHandlers(on: router, configuration: ContractServer.configuration, middlewares: ContractServer.middlewares(
            gate: Authenticator(verifier: verifier, revocations: revocations, logger: logger).gate(UsersAPI.access)))
    }
    let store = UserStore(parts, logger: logger)
    var handlers = MessageHandlers()
    handlers.register(ValidateCustomerHandler(users: store))
    try app.addConsumer("users", topics: [.usersCommands], handlers: handlers, parts: parts, logger: logger)
    app.addServices(redis)
    if let admin = users.bootstrapAdmin {
        app.beforeServerStarts {
            let hash = try await hasher.hash(admin.password)
            switch try await store.ensureAdmin(email: admin.email, passwordHash: hash) {
            case .created:
                logger.info("bootstrap administrator created", metadata: ["user.email": "\(admin.email)"])
            case .existed:
                logger.info("bootstrap administrator exists; USERS_ADMIN_PASSWORD applied only when it was created", metadata: ["user.email": "\(admin.email)"])
            case .emailTakenByNonAdmin:
                logger.error("USERS_ADMIN_EMAIL belongs to an account that is not an administrator; no bootstrap administrator exists", metadata: [
                    "user.email": "\(admin.email)",
                ])
            case .suspended:
                logger.error("the bootstrap administrator (USERS_ADMIN_EMAIL) is suspended and cannot act", metadata: ["user.email": "\(admin.email)"])
            }
        }
    }
    logger.info("signing access tokens", metadata: ["auth.kid": "\(signing.id)", "auth.published_kids": "\(users.signingKeys.map(\.id))"])
    return app
}
