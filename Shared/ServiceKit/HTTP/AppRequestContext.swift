public import Hummingbird

/// The request context every OrderFlow service uses.
///
/// Carries the request id (accepted from `X-Request-ID` or generated) so that error
/// responses and log lines can quote it.
public struct AppRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The request id echoed in `X-Request-ID`; set by ``RequestIDMiddleware``.
    public var requestID: String
    /// The peer's IP address (the gateway's rate-limit key for anonymous callers).
    public let remoteAddress: String?

    public init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
        self.requestID = ""
        self.remoteAddress = source.channel.remoteAddress?.ipAddress
    }
}
