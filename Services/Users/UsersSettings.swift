import Auth
import Foundation
import ServiceKit

/// What the users service reads beyond the common and data-service settings.
struct UsersSettings: Sendable {
    /// Signing keys; the first signs, all are published in the JWKS.
    var signingKeys: [SigningKey]
    var auth: AuthSettings
    var accessTokenLifetime: Duration
    var refreshTokenLifetime: Duration
    var bcryptCost: UInt8
    /// The administrator created at startup when no user has this email.
    var bootstrapAdmin: (email: String, password: String)?

    static let signingKeysKey = SettingKey(
        "jwt.signing.keys", expecting: "kid=base64url-ed25519-seed[,kid=seed…] (the first signs; `make run` generates dev keys)", isSecret: true
    )
    static let signingKeysFileKey = SettingKey("jwt.signing.keys.file", expecting: "a readable file holding kid=seed[,kid=seed…]")
    static let accessTTLKey = SettingKey("jwt.access.ttl.seconds", expecting: "seconds 60-86400")
    /// The longest access-token lifetime any configuration allows (a suspension's revocation
    /// lasts this long, so tokens issued under an earlier, longer setting are covered too).
    static let longestAccessTokenLifetime: Duration = .seconds(86_400)
    static let refreshTTLKey = SettingKey("refresh.token.ttl.hours", expecting: "hours 1-8760")
    static let bcryptCostKey = SettingKey("bcrypt.cost", expecting: "an integer 4-15")
    static let adminEmailKey = SettingKey("users.admin.email", expecting: "the bootstrap administrator's email (with USERS_ADMIN_PASSWORD)")
    static let adminPasswordKey = SettingKey("users.admin.password", expecting: "the bootstrap administrator's password, at least 10 characters (with USERS_ADMIN_EMAIL)", isSecret: true)

    static func read(from settings: Settings) throws(ConfigurationError) -> UsersSettings {
        let keys: [SigningKey]
        if settings.optionalString(signingKeysKey) != nil {
            keys = try settings.parsed(signingKeysKey, SigningKey.parseList)
        } else if let path = settings.optionalString(signingKeysFileKey) {
            guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError(key: signingKeysFileKey, problem: .invalid(path))
            }
            guard let parsed = SigningKey.parseList(contents.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                throw ConfigurationError(key: signingKeysFileKey, problem: .invalid("\(path) (contents not kid=seed[,kid=seed…])"))
            }
            keys = parsed
        } else {
            throw ConfigurationError(key: signingKeysKey, problem: .missing)
        }
        let access = try settings.optionalParsed(accessTTLKey) { Int($0).flatMap { (60...Int(longestAccessTokenLifetime.components.seconds)).contains($0) ? $0 : nil } } ?? 900
        let refresh = try settings.optionalParsed(refreshTTLKey) { Int($0).flatMap { (1...8_760).contains($0) ? $0 : nil } } ?? 720
        let cost = try settings.optionalParsed(bcryptCostKey) { UInt8($0).flatMap { (4...15).contains($0) ? $0 : nil } } ?? 10
        var admin: (String, String)?
        switch (settings.optionalString(adminEmailKey), settings.optionalString(adminPasswordKey)) {
        case (nil, nil):
            admin = nil
        case (let email?, let password?):
            guard EmailAddress.isValid(email) else { throw ConfigurationError(key: adminEmailKey, problem: .invalid(email)) }
            guard password.count >= RegistrationRules.minimumPasswordLength else {
                throw ConfigurationError(key: adminPasswordKey, problem: .invalid("(too short)"))
            }
            admin = (email, password)
        case (nil, _?):
            throw ConfigurationError(key: adminEmailKey, problem: .missing)
        case (_?, nil):
            throw ConfigurationError(key: adminPasswordKey, problem: .missing)
        }
        return UsersSettings(
            signingKeys: keys, auth: try AuthSettings.read(from: settings), accessTokenLifetime: .seconds(access),
            refreshTokenLifetime: .seconds(refresh * 3_600), bcryptCost: cost, bootstrapAdmin: admin
        )
    }
}
