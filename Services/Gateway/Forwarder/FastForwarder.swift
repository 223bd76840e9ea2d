import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import ServiceKit

/// The gateway's event-loop proxy path: answers the requests ``FastPathEligibility`` accepts
/// without Hummingbird's router or async-http-client, on the thread that read the request.
///
/// It runs the same steps as the router path (``GatewayRoutes``): request id, route, admission
/// (token, revocation, rate limit), the resilience rules of ``UpstreamAttempts``, the upstream's
/// answer with `RateLimit-*` headers, and the edge's CORS and security headers. Only the
/// transport differs: ``UpstreamChannelPool``'s connections on the caller's event loop. See ADR 0009.
/// One thing it adds: a read whose bucket surely has a token goes upstream while its Redis
/// decision is on the way (``GatewayAdmission/Pending/mayGoFirst``, ADR 0011).
struct FastForwarder: Sendable {
    let routes: GatewayRoutes
    let attempts: UpstreamAttempts
    let pool: UpstreamChannelPool
    /// `host:port` of each upstream, for the `Host` header.
    let authorities: [UpstreamName: String]
    let edge: GatewayEdgeMiddleware
    /// The `Server` header, as Hummingbird writes it on the router path.
    let serverName: String
    let metrics = ForwardedRequestMetrics()
    let dates = HTTPDateCache()

    /// Whether this path takes `head`.
    func takes(_ head: HTTPRequest) -> Bool {
        FastPathEligibility.accepts(head, table: routes.table)
    }

    /// The answer to `head` (a request ``takes(_:)`` accepted), computed on `executor`, the
    /// client connection's event loop.
    /// The answer carries its metrics ``ForwardedAnswer/measurement``: whoever writes it calls
    /// `metrics.finish` once the last byte is out.
    func answer(_ head: HTTPRequest, clientAddress: String?, on executor: EventLoopExecutor) async -> ForwardedAnswer {
        var measurement = metrics.begin()
        var head = head
        let requestID = head.headerFields[.requestID].flatMap(RequestIDMiddleware.accepted) ?? UUID().uuidString.lowercased()
        head.headerFields[.requestID] = requestID
        let path = FastPathEligibility.pathWithoutQuery(head.path ?? "/")
        var answer: ForwardedAnswer
        if let route = routes.table.route(method: .get, path: path) {
            answer = await forward(head, route: route, requestID: requestID, clientAddress: clientAddress, on: executor)
        } else {
            answer = Self.problem(ProblemDetails(status: .notFound, detail: "No API operation lives at this path."), path: path, requestID: requestID)
        }
        answer.head.headerFields[.requestID] = requestID
        answer.head.headerFields[.server] = serverName
        answer.head.headerFields[.date] = dates.now
        edge.finish(&answer.head.headerFields, requestOrigin: head.headerFields[.origin])
        if case .whole(let body) = answer.body { answer.head.headerFields[.contentLength] = String(body.readableBytes) }
        measurement.route = path == RouteTable.jwksPath ? RouteTable.jwksPath : "/api/v1/**"
        measurement.status = answer.head.status
        answer.measurement = measurement
        return answer
    }

    private func forward(
        _ head: HTTPRequest, route: RouteTable.Route, requestID: String, clientAddress: String?, on executor: EventLoopExecutor
    ) async -> ForwardedAnswer {
        let eventLoop = executor.eventLoop
        let path = FastPathEligibility.pathWithoutQuery(head.path ?? "/")
        let admission = routes.admission
        let pending: GatewayAdmission.Pending
        do {
            pending = try await admission.identify(Request(head: head, body: .init(buffer: ByteBuffer())), route: route, clientAddress: clientAddress)
        } catch {
            return Self.problem(error.problem, headers: error.headers, path: path, requestID: requestID)
        }
        let outbound = HTTPRequest(
            method: .get, scheme: nil, authority: authorities[route.upstream], path: head.path,
            headerFields: GatewayRoutes.upstreamHeaders(
                from: head.headerFields, requestID: requestID, identity: pending.identity,
                clientAddress: clientAddress, tracingEnabled: false
            )
        )
        let admitted: GatewayAdmission.Admitted
        let reply: Result<UpstreamReply, ProxyFailure>
        if pending.mayGoFirst {
            // Speculative read (ADR 0011): the upstream exchange runs beside the Redis decision,
            // on this event loop. A refusal answers at once; the exchange's answer is thrown away.
            let upstream = Task(executorPreference: executor) { await exchange(outbound, route: route, on: eventLoop) }
            do {
                admitted = try await admission.decide(pending, speculated: true)
            } catch {
                upstream.cancel()  // no retries for an answer nobody wants
                Task(executorPreference: executor) {
                    if case .success(let unwanted) = await upstream.value { Self.discard(unwanted) }
                }
                return Self.problem(error.problem, headers: error.headers, path: path, requestID: requestID)
            }
            reply = await withTaskCancellationHandler { await upstream.value } onCancel: { upstream.cancel() }
        } else {
            do {
                admitted = try await admission.decide(pending, speculated: false)
            } catch {
                return Self.problem(error.problem, headers: error.headers, path: path, requestID: requestID)
            }
            reply = await exchange(outbound, route: route, on: eventLoop)
        }
        switch reply {
        case .success(let reply):
            var fields = ForwardedHeaders.clientResponse(from: reply.head.headerFields)
            fields.append(contentsOf: admitted.rateLimitHeaders)
            return ForwardedAnswer(head: HTTPResponse(status: reply.head.status, headerFields: fields), body: reply.body)
        case .failure(let error):
            var extra = admitted.rateLimitHeaders
            if let seconds = error.retryAfterSeconds { extra[.retryAfter] = String(seconds) }
            return Self.problem(error.problem(area: route.label), headers: extra, path: path, requestID: requestID)
        }
    }

    /// The upstream's reply to `outbound` under the resilience rules of ``UpstreamAttempts``.
    private func exchange(_ outbound: HTTPRequest, route: RouteTable.Route, on eventLoop: any EventLoop) async -> Result<UpstreamReply, ProxyFailure> {
        do {
            let deadline = attempts.deadline()
            return .success(try await attempts.withSlot(route.upstream) { upstreamGuard throws(ProxyFailure) in
                try await attempts.run(
                    .get, via: upstreamGuard, until: deadline,
                    send: { deadline throws(UpstreamAttemptFailure) in
                        try await send(outbound, to: route.upstream, on: eventLoop, deadline: deadline)
                    },
                    status: { $0.head.status.code },
                    discard: Self.discard
                )
            })
        } catch {
            return .failure(error)
        }
    }

    /// Lets go of a reply nobody will read: a streamed body is cancelled on its loop.
    private static func discard(_ reply: UpstreamReply) {
        if case .streaming(let stream) = reply.body { stream.eventLoop.execute { stream.cancel() } }
    }

    private func send(
        _ request: HTTPRequest, to upstream: UpstreamName, on eventLoop: any EventLoop, deadline: NIODeadline
    ) async throws(UpstreamAttemptFailure) -> UpstreamReply {
        do {
            return try await pool.exchange(request, with: upstream, on: eventLoop, deadline: deadline).get()
        } catch UpstreamExchangeError.timeout {
            throw .timeout
        } catch UpstreamExchangeError.brokeOff {
            throw .brokenAnswer
        } catch {
            throw .unreachable(reason: "\(error)")
        }
    }

    /// A problem the gateway answers itself (before the edge headers are added).
    static func problem(_ problem: ProblemDetails, headers: HTTPFields = [:], path: String, requestID: String) -> ForwardedAnswer {
        var problem = problem
        problem.instance = path
        problem.requestID = requestID
        var fields: HTTPFields = [.contentType: ProblemDetails.mediaType]
        fields.append(contentsOf: headers)
        return ForwardedAnswer(head: HTTPResponse(status: .init(code: problem.status), headerFields: fields), body: .whole(problem.encoded()))
    }
}

/// What the client gets from the event-loop path.
struct ForwardedAnswer: Sendable {
    var head: HTTPResponse
    var body: UpstreamReply.Body
    /// Set by ``FastForwarder/answer(_:clientAddress:on:)``; finished when the answer is written.
    var measurement: ForwardedRequestMetrics.Measurement?
}
