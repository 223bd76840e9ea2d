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

    /// A header name spelled in this file; a typo there stops the process at first use.
    private static func known(_ name: String) -> HTTPField.Name {
        guard let field = HTTPField.Name(name) else { preconditionFailure("\(name) is not a valid HTTP field name") }
        return field
    }
}
