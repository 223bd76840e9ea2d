public import Foundation
import JWTKit

/// Signs access tokens with the active key (the users service).
public struct TokenIssuer: Sendable {
    /// The `iss` written into tokens.
    public let issuer: String
    /// The `aud` written into tokens.
    public let audience: String
    /// How long an access token lives.
    public let lifetime: Duration
    /// The key id tokens are signed with.
    public let keyID: String
    private let keys: JWTKeyCollection

    /// A signed token and what it says.
    public struct Issued: Sendable {
        /// The compact JWT.
        public let token: String
        /// Its claims.
        public let claims: AccessTokenClaims
    }

    /// Creates an issuer signing with `key`.
    public init(issuer: String, audience: String, lifetime: Duration, key: SigningKey) async {
        self.issuer = issuer
        self.audience = audience
        self.lifetime = lifetime
        self.keyID = key.id
        let keys = JWTKeyCollection()
        await keys.add(eddsa: EdDSA.PrivateKey(backing: key.privateKey), kid: JWKIdentifier(string: key.id))
        self.keys = keys
    }

    /// Signs a token for `userID` with `roles`, valid from `now` for ``lifetime``.
    public func issue(userID: UUID, roles: [Role], now: Date = Date()) async throws -> Issued {
        let now = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))  // NumericDate in whole seconds
        let claims = AccessTokenClaims(
            issuer: issuer, audience: audience, subject: userID, issuedAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(lifetime.components.seconds)), notBefore: now,
            tokenID: UUID().uuidString.lowercased(), roles: roles
        )
        let token = try await keys.sign(claims, kid: JWKIdentifier(string: keyID))
        return Issued(token: token, claims: claims)
    }
}
