public import Foundation
public import ServiceKit
public import Logging

/// What every service that verifies tokens reads.
public struct AuthSettings: Sendable {
    /// `JWT_ISSUER`: the expected (and, in users, written) `iss`. Default `orderflow-users`.
    public var issuer: String
    /// `JWT_AUDIENCE`: the expected (and written) `aud`. Default `orderflow`.
    public var audience: String
    /// `JWT_LEEWAY_SECONDS`: tolerated clock skew. Default 30.
    public var leeway: Duration

    /// `JWT_ISSUER`.
    public static let issuerKey = SettingKey("jwt.issuer", expecting: "the token issuer, for example orderflow-users")
    /// `JWT_AUDIENCE`.
    public static let audienceKey = SettingKey("jwt.audience", expecting: "the token audience, for example orderflow")
    /// `JWT_LEEWAY_SECONDS`.
    public static let leewayKey = SettingKey("jwt.leeway.seconds", expecting: "an integer number of seconds 0-300")
    /// The largest clock leeway any verifier may be configured with (`JWT_LEEWAY_SECONDS`):
    /// a token stays acceptable up to this long after its `exp`, so a revocation must outlive
    /// the expiry by as much.
    public static let maximumLeeway: Duration = .seconds(300)
    /// `JWT_JWKS_URL`: where services other than users fetch the verification keys.
    public static let jwksURLKey = SettingKey(
        "jwt.jwks.url", expecting: "an http(s) URL, for example http://127.0.0.1:8081/.well-known/jwks.json"
    )

    /// Reads the settings, with defaults for the unset ones.
    public static func read(from settings: Settings) throws(ConfigurationError) -> AuthSettings {
        AuthSettings(
            issuer: settings.optionalString(issuerKey) ?? "orderflow-users",
            audience: settings.optionalString(audienceKey) ?? "orderflow",
            leeway: .seconds(try settings.optionalParsed(leewayKey) {
                Int($0).flatMap { (0...Int(maximumLeeway.components.seconds)).contains($0) ? $0 : nil }
            } ?? 30)
        )
    }

    /// Reads the required `JWT_JWKS_URL`.
    public static func jwksURL(from settings: Settings) throws(ConfigurationError) -> URL {
        try settings.parsed(jwksURLKey) { raw in
            guard let url = URL(string: raw), ["http", "https"].contains(url.scheme ?? ""), url.host != nil else { return nil }
            return url
        }
    }

    /// A verifier fetching its keys from `JWT_JWKS_URL`.
    public static func verifier(from settings: Settings, logger: Logging.Logger) throws(ConfigurationError) -> TokenVerifier {
        let auth = try read(from: settings)
        return TokenVerifier(
            issuer: auth.issuer, audience: auth.audience, keys: JWKSEndpoint(url: try jwksURL(from: settings)),
            leeway: auth.leeway, logger: logger
        )
    }
}
