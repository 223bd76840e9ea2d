/// The body answering login and refresh (RFC 6749 §5.1 field names).
struct TokenResponse: Encodable, Sendable {
    let accessToken: String
    let tokenType = "Bearer"
    /// Seconds until the access token expires.
    let expiresIn: Int
    let refreshToken: String

    enum CodingKeys: String, CodingKey {
        case accessToken = "access_token"
        case tokenType = "token_type"
        case expiresIn = "expires_in"
        case refreshToken = "refresh_token"
    }
}
