import HTTPTypes
import Hummingbird
import ServiceKit

/// The gateway's outermost middleware: security headers on every response (problems
/// included) and CORS for the configured origins.
///
/// CORS: a request whose `Origin` is allowed gets `Access-Control-Allow-Origin` (the origin
/// itself, with `Vary: Origin`) and the headers a browser client needs to read exposed; a
/// preflight (`OPTIONS` with `Access-Control-Request-Method`) from an allowed origin is answered
/// here with 204. Origins not listed get no CORS headers, so browsers refuse the response.
struct GatewayEdgeMiddleware: RouterMiddleware {
    typealias Context = AppRequestContext

    let allowedOrigins: Set<String>
    let allowsAnyOrigin: Bool

    static let exposedHeaders = "X-Request-ID, Retry-After, RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset, Idempotent-Replayed, Location"
    static let allowedHeaders = "Authorization, Content-Type, Idempotency-Key, X-Request-ID, Last-Event-ID, traceparent, tracestate"
    static let allowedMethods = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"

    init(corsOrigins: [String]) {
        self.allowsAnyOrigin = corsOrigins.contains("*")
        self.allowedOrigins = Set(corsOrigins)
    }

    var corsEnabled: Bool { allowsAnyOrigin || !allowedOrigins.isEmpty }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let requestOrigin = request.headers[.origin]
        guard request.method == .options, request.headers[.accessControlRequestMethod] != nil,
              let requestOrigin, allowsAnyOrigin || allowedOrigins.contains(requestOrigin) else {
            var response = try await next(request, context)
            finish(&response.headers, requestOrigin: requestOrigin)
            return response
        }
        var response = Response(status: .noContent)
        response.headers[.accessControlAllowMethods] = Self.allowedMethods
        response.headers[.accessControlAllowHeaders] = Self.allowedHeaders
        response.headers[.accessControlMaxAge] = "600"
        // Under `*` the literal wildcard (no credentials are ever allowed); otherwise the origin itself.
        response.headers[.accessControlAllowOrigin] = allowsAnyOrigin ? "*" : requestOrigin
        response.headers[.vary] = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers"
        Self.addSecurityHeaders(to: &response.headers)
        return response
    }

    /// What every answer that is not a preflight gets: CORS headers for an allowed
    /// `requestOrigin`, `Vary: Origin` when CORS is on, and the security headers. The
    /// event-loop proxy path (``FastForwarder``) finishes its answers with this too.
    func finish(_ headers: inout HTTPFields, requestOrigin: String?) {
        if let requestOrigin, allowsAnyOrigin || allowedOrigins.contains(requestOrigin) {
            headers[.accessControlAllowOrigin] = allowsAnyOrigin ? "*" : requestOrigin
            headers[.accessControlExposeHeaders] = Self.exposedHeaders
        }
        // Cached responses must not be shared across origins when CORS is on.
        if corsEnabled, !allowsAnyOrigin {
            headers[.vary] = headers[.vary].map { "\($0), Origin" } ?? "Origin"
        }
        Self.addSecurityHeaders(to: &headers)
    }

    /// Headers that keep browsers from sniffing, framing or leaking referrers; API responses
    /// also forbid any active content. `/docs` sets its own, looser policy.
    static func addSecurityHeaders(to headers: inout HTTPFields) {
        headers[.xContentTypeOptions] = "nosniff"
        headers[.frameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        if headers[.contentSecurityPolicy] == nil {
            headers[.contentSecurityPolicy] = "default-src 'none'; frame-ancestors 'none'"
        }
        if headers[.cacheControl] == nil { headers[.cacheControl] = "no-store" }
    }
}
