public import HTTPTypes

extension HTTPField.Name {
    /// `X-Request-ID`.
    public static let requestID = known("X-Request-ID")
    /// `Idempotency-Key`: required on `POST /orders` and deposits.
    public static let idempotencyKey = known("Idempotency-Key")
    /// `Idempotent-Replayed: true` marks a stored response sent again.
    public static let idempotentReplayed = known("Idempotent-Replayed")
    /// `Last-Event-ID`: where a Server-Sent Events client resumes.
    public static let lastEventID = known("Last-Event-ID")
    /// `X-Accel-Buffering: no` keeps reverse proxies from buffering event streams.
    public static let accelBuffering = known("X-Accel-Buffering")
    /// `RateLimit-Limit`: the bucket's size (draft-ietf-httpapi-ratelimit-headers).
    public static let rateLimitLimit = known("RateLimit-Limit")
    /// `RateLimit-Remaining`: requests left in the bucket.
    public static let rateLimitRemaining = known("RateLimit-Remaining")
    /// `RateLimit-Reset`: seconds until the bucket is full again.
    public static let rateLimitReset = known("RateLimit-Reset")
    /// `X-Forwarded-For`: the client addresses a proxy saw.
    public static let forwardedFor = known("X-Forwarded-For")
    /// `X-Forwarded-Proto`: the scheme the client used.
    public static let forwardedProto = known("X-Forwarded-Proto")
    /// `X-Frame-Options`.
    public static let frameOptions = known("X-Frame-Options")
    /// `Referrer-Policy`.
    public static let referrerPolicy = known("Referrer-Policy")
    /// `X-Authenticated-User-ID`: the user the gateway verified (informational; services verify the token again).
    public static let authenticatedUserID = known("X-Authenticated-User-ID")
    /// `X-Authenticated-Roles`: that user's roles, comma-separated.
    public static let authenticatedRoles = known("X-Authenticated-Roles")

    /// A header name spelled in this file; a typo there stops the process at first use.
    private static func known(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("\(name) is not a valid HTTP field name") }
        return field
    }
}
