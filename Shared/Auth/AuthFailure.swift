public import ServiceKit

/// Why a request's credentials were refused. Every case answers 401 with a problem whose
/// detail says what to do, without echoing the token.
public enum AuthFailure: Error, Sendable, Equatable {
    /// No `Authorization: Bearer …` header.
    case missingToken
    /// Not three base64url parts with a JSON header and payload of the expected shape.
    case malformedToken
    /// The header names an algorithm other than EdDSA (`none`, `HS256`, …).
    case algorithmNotAllowed(String)
    /// The header names no key id, or one the published key set does not contain.
    case unknownKey
    /// The signature does not match the header and payload.
    case invalidSignature
    /// `exp` has passed.
    case expired
    /// `nbf` (or `iat`) lies in the future.
    case notYetValid
    /// `iss` is not the expected issuer.
    case wrongIssuer
    /// `aud` does not contain the expected audience.
    case wrongAudience
    /// The token was revoked (its user logged out).
    case revoked
    /// The verification keys could not be fetched; the request may be retried.
    case keysUnavailable

    /// The problem the client sees: 401, or 503 when the keys could not be fetched.
    public var problem: ProblemDetails {
        switch self {
        case .keysUnavailable:
            return ProblemDetails(
                status: .serviceUnavailable, type: "/problems/auth-unavailable", title: "Authentication unavailable",
                detail: "The token verification keys could not be fetched; retry shortly."
            )
        case .missingToken, .malformedToken, .algorithmNotAllowed, .unknownKey, .invalidSignature,
             .expired, .notYetValid, .wrongIssuer, .wrongAudience, .revoked:
            return ProblemDetails(status: .unauthorized, type: "/problems/unauthorized", title: "Unauthorized", detail: detail)
        }
    }

    private var detail: String {
        switch self {
        case .missingToken: "Send an access token as `Authorization: Bearer <token>`."
        case .malformedToken: "The access token is not a well-formed JWT."
        case .algorithmNotAllowed: "The access token must be signed with EdDSA."
        case .unknownKey: "The access token was signed by an unknown key."
        case .invalidSignature: "The access token's signature is invalid."
        case .expired: "The access token has expired; refresh it."
        case .notYetValid: "The access token is not valid yet."
        case .wrongIssuer: "The access token was issued by someone else."
        case .wrongAudience: "The access token is meant for another audience."
        case .revoked: "The access token was revoked."
        case .keysUnavailable: "The token verification keys could not be fetched."
        }
    }
}
