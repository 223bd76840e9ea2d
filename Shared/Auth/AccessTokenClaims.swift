public import Foundation
public import JWTKit

/// The payload of an OrderFlow access token.
///
/// Registered claims `iss`, `aud`, `sub` (the user id), `exp`, `iat`, `nbf` and `jti`, plus
/// `roles`. The signature is checked by jwt-kit; the time, issuer and audience claims by
/// ``TokenVerifier`` against its own clock and settings (so ``verify(using:)`` checks nothing).
public struct AccessTokenClaims: JWTPayload, Equatable {
    /// `iss`: who issued the token.
    public var issuer: IssuerClaim
    /// `aud`: who the token is for.
    public var audience: AudienceClaim
    /// `sub`: the user id.
    public var subject: SubjectClaim
    /// `exp`.
    public var expiration: ExpirationClaim
    /// `iat`.
    public var issuedAt: IssuedAtClaim
    /// `nbf`.
    public var notBefore: NotBeforeClaim?
    /// `jti`: the token id, used for revocation.
    public var tokenID: IDClaim
    /// The user's roles.
    public var roles: [Role]

    enum CodingKeys: String, CodingKey {
        case issuer = "iss", audience = "aud", subject = "sub", expiration = "exp"
        case issuedAt = "iat", notBefore = "nbf", tokenID = "jti", roles
    }

    /// Creates claims.
    public init(
        issuer: String, audience: String, subject: UUID, issuedAt: Date, expiresAt: Date,
        notBefore: Date? = nil, tokenID: String, roles: [Role]
    ) {
        self.issuer = IssuerClaim(value: issuer)
        self.audience = AudienceClaim(value: [audience])
        self.subject = SubjectClaim(value: subject.uuidString.lowercased())
        self.issuedAt = IssuedAtClaim(value: issuedAt)
        self.expiration = ExpirationClaim(value: expiresAt)
        self.notBefore = notBefore.map { NotBeforeClaim(value: $0) }
        self.tokenID = IDClaim(value: tokenID)
        self.roles = roles
    }

    /// Claims are checked by ``TokenVerifier`` (it knows the expected issuer, audience and
    /// time); jwt-kit's hook has nothing left to check.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}
