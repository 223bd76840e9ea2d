import Auth
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// The proxy routes: `/api/v1/**` and `/.well-known/jwks.json`, for every method.
///
/// Per request: route lookup (404 problem for an unknown area) → body size check (413) →
/// admission (token, revocation, rate limit: 401/429) → forward (503/504 problems on upstream
/// trouble) → the upstream's response, with `RateLimit-*` headers added.
struct GatewayRoutes: Sendable {
    let table = RouteTable()
    let admission: GatewayAdmission
    let proxy: UpstreamProxy
    let maxBodyBytes: Int
    /// Whether this process exports traces: then async-http-client writes the gateway span's
    /// `traceparent` upstream, and the client's own trace headers must not travel beside it.
    let tracingEnabled: Bool

    static let methods: [HTTPRequest.Method] = [.get, .head, .post, .put, .patch, .delete, .options]

    func add(to router: Router<AppRequestContext>) {
        for method in Self.methods {
            router.on("api/v1/**", method: method) { request, context in try await handle(request, context: context) }
        }
        for method: HTTPRequest.Method in [.get, .head] {
            router.on(RouterPath(stringLiteral: String(RouteTable.jwksPath.dropFirst())), method: method) { request, context in
                try await handle(request, context: context)
            }
        }
    }

    func handle(_ request: Request, context: AppRequestContext) async throws -> Response {
        guard let route = table.route(method: request.method, path: request.uri.path) else {
            throw ProblemDetails(status: .notFound, detail: "No API operation lives at this path.")
        }
        if let declared = request.headers[.contentLength].flatMap({ Int($0) }), declared > maxBodyBytes {
            throw ProblemDetails.bodyTooLarge(limit: maxBodyBytes)
        }
        let admitted: GatewayAdmission.Admitted
        do {
            admitted = try await admission.admit(request, route: route, clientAddress: context.remoteAddress)
        } catch {
            return Self.respond(error.problem, headers: error.headers, request: request, context: context)
        }
        var request = request
        let body: ByteBuffer
        do {
            body = try await request.collectBody(upTo: maxBodyBytes)
        } catch {
            throw ProblemDetails.bodyTooLarge(limit: maxBodyBytes)
        }
        let headers = Self.upstreamHeaders(
            from: request.headers, requestID: context.requestID, identity: admitted.identity,
            clientAddress: context.remoteAddress, tracingEnabled: tracingEnabled
        )
        do {
            var response = try await proxy.forward(
                request, body: body.readableBytes > 0 ? body : nil, to: route.upstream, headers: headers
            )
            response.headers.append(contentsOf: admitted.rateLimitHeaders)
            return response
        } catch {
            var extra = admitted.rateLimitHeaders
            if let seconds = error.retryAfterSeconds { extra[.retryAfter] = String(seconds) }
            return Self.respond(error.problem(area: route.label), headers: extra, request: request, context: context)
        }
    }

    /// The headers the upstream receives: the client's (minus hop-by-hop and identity headers),
    /// the accepted request id, the verified identity, forwarding information and, when this
    /// process exports traces (async-http-client then writes the gateway span's own), no trace
    /// context of the client's.
    static func upstreamHeaders(
        from clientHeaders: HTTPFields, requestID: String, identity: Identity?, clientAddress: String?, tracingEnabled: Bool
    ) -> HTTPFields {
        var headers = ForwardedHeaders.upstreamRequest(from: clientHeaders)
        headers[.requestID] = requestID
        if let identity {
            headers[.authenticatedUserID] = identity.userID.uuidString.lowercased()
            headers[.authenticatedRoles] = identity.roles.map(\.rawValue).sorted().joined(separator: ",")
        }
        if let clientAddress { headers[.forwardedFor] = clientAddress }
        headers[.forwardedProto] = "http"
        if tracingEnabled {
            headers[.traceparent] = nil
            headers[.tracestate] = nil
        }
        return headers
    }

    /// A problem answered by the gateway itself, with extra headers (which a thrown problem
    /// could not carry).
    static func respond(_ problem: ProblemDetails, headers: HTTPFields, request: Request, context: AppRequestContext) -> Response {
        var problem = problem
        problem.instance = request.uri.path
        problem.requestID = context.requestID
        var response = problem.response()
        response.headers.append(contentsOf: headers)
        return response
    }
}
