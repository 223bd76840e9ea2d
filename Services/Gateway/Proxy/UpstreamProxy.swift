import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import Instrumentation
import Logging
import Metrics
import NIOCore
import NIOHTTP1
import ServiceKit
import ServiceLifecycle

/// Sends a request to its upstream through async-http-client's pooled keep-alive connections
/// and relays the answer, under the rules of ``UpstreamAttempts``.
///
/// This path serves every request the event-loop path (``FastForwarder``) does not take:
/// request bodies, event streams, HEAD and OPTIONS, and everything when tracing is on.
/// Small bodies (≤ 256 KiB with a `Content-Length`) are relayed whole, anything else streams to
/// its end (cut when the upstream stays silent for the upstream timeout, ``SilenceLimitedBody``);
/// event streams may stay quiet, and end when the gateway shuts down gracefully.
struct UpstreamProxy: Sendable {
    let client: HTTPClient
    let bases: [UpstreamName: String]
    let attempts: UpstreamAttempts

    static let wholeBodyLimit = 256 * 1_024

    init(client: HTTPClient, upstreams: [UpstreamName: URL], attempts: UpstreamAttempts) {
        self.client = client
        self.bases = upstreams.mapValues { url in
            url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
        }
        self.attempts = attempts
    }

    var guards: [UpstreamName: UpstreamGuard] { attempts.guards }

    /// Forwards `request` (whose body was already read into `body`) to `upstream` with `headers`.
    func forward(
        _ request: Request, body: ByteBuffer?, to upstream: UpstreamName, headers: HTTPFields
    ) async throws(ProxyFailure) -> Response {
        guard let base = bases[upstream] else { throw .unreachable }
        var outbound = HTTPClientRequest(url: base + request.uri.path + (request.uri.query.map { "?\($0)" } ?? ""))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        outbound.headers.reserveCapacity(headers.count)
        for field in headers { outbound.headers.add(name: field.name.rawName, value: field.value) }
        if let body { outbound.body = .bytes(body) }

        // One deadline for the head and a small body's end (an upstream may stall after its head),
        // the body of an answer about to be retried included. A small body is collected within
        // the attempt, so an attempt has one outcome for the breaker: a body that stalls counts
        // against it as a head that never came does.
        let deadline = attempts.deadline()
        return try await attempts.withSlot(upstream) { upstreamGuard throws(ProxyFailure) in
            let answer = try await attempts.run(
                request.method, via: upstreamGuard, until: deadline,
                send: { deadline throws(UpstreamAttemptFailure) in try await fetch(outbound, by: deadline) },
                status: { Int($0.head.status.code) },
                discard: { answer in if answer.wholeBody == nil { _ = try? await Self.collect(answer.head.body, by: deadline) } }
            )
            return relay(answer, to: request.method)
        }
    }

    /// An upstream's answer as an attempt leaves it: a small body (≤ ``wholeBodyLimit`` with a
    /// `Content-Length`) already collected, any other still to stream.
    private struct Answer: Sendable {
        let head: HTTPClientResponse
        let wholeBody: ByteBuffer?
    }

    /// One attempt: the head, and a small body whole, by `deadline`.
    private func fetch(_ outbound: HTTPClientRequest, by deadline: NIODeadline) async throws(UpstreamAttemptFailure) -> Answer {
        let head = try await execute(outbound, deadline: deadline)
        guard let length = head.headers.first(name: "content-length").flatMap({ Int($0) }), length <= Self.wholeBodyLimit else {
            return Answer(head: head, wholeBody: nil)
        }
        do throws(ProxyFailure) {
            return Answer(head: head, wholeBody: try await Self.collect(head.body, by: deadline))
        } catch {
            throw error == .timeout ? .timeout : .brokenAnswer
        }
    }

    private func execute(_ outbound: HTTPClientRequest, deadline: NIODeadline) async throws(UpstreamAttemptFailure) -> HTTPClientResponse {
        do {
            return try await client.execute(outbound, deadline: deadline, logger: attempts.logger)
        } catch {
            if Self.isPoolExhausted(error) { throw .poolExhausted }
            if Self.isTimeout(error) { throw .timeout }
            throw .unreachable(reason: "\(error)")
        }
    }

    /// The client's answer: a small body as collected, anything else streamed; to a HEAD, the
    /// head alone with the upstream's `Content-Length` (the length a GET's body would have:
    /// RFC 9110 §9.3.2), which the hop-by-hop rule would otherwise replace with 0. (An upstream
    /// HEAD without a length is answered with 0, as Hummingbird answers its own.)
    private func relay(_ answer: Answer, to method: HTTPRequest.Method) -> Response {
        let upstream = answer.head
        var headers = HTTPFields()
        headers.reserveCapacity(upstream.headers.count + 8)
        for (name, value) in upstream.headers {
            guard let fieldName = HTTPField.Name(name) else { continue }
            headers.append(HTTPField(name: fieldName, value: value))
        }
        headers = ForwardedHeaders.clientResponse(from: headers)
        let status = HTTPResponse.Status(code: Int(upstream.status.code))
        if method == .head {
            if let length = upstream.headers.first(name: "content-length") { headers[.contentLength] = length }
            return Response(status: status, headers: headers, body: ResponseBody())
        }
        if let body = answer.wholeBody {
            return Response(status: status, headers: headers, body: .init(byteBuffer: body))
        }
        // An event stream (SSE) ends on graceful shutdown, so open streams never hold up SIGTERM
        // (clients reconnect with Last-Event-ID), and may stay quiet between its events; any other
        // body is relayed to its end, but may not stay silent for longer than the upstream timeout
        // while the client waits for more.
        if ForwardedHeaders.isEventStream(headers) {
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: upstream.body.cancelOnGracefulShutdown()))
        }
        let body = SilenceLimitedBody(upstream: upstream.body, limit: attempts.policy.requestTimeout, logger: attempts.logger)
        return Response(status: status, headers: headers, body: body.responseBody)
    }

    /// `body` whole, racing `deadline`: when the deadline comes first, collecting is cancelled
    /// (async-http-client then drops the connection) and the answer is a timeout.
    private static func collect(_ body: HTTPClientResponse.Body, by deadline: NIODeadline) async throws(ProxyFailure) -> ByteBuffer {
        let whole: ByteBuffer?
        do {
            whole = try await withThrowingTaskGroup(of: ByteBuffer?.self) { group in
                group.addTask { try await body.collect(upTo: wholeBodyLimit) }
                group.addTask {
                    try await Task.sleep(for: .nanoseconds((deadline - NIODeadline.now()).nanoseconds))
                    return nil
                }
                defer { group.cancelAll() }
                return try await group.next() ?? nil
            }
        } catch {
            throw .badResponse
        }
        guard let whole else { throw .timeout }
        return whole
    }

    static func isPoolExhausted(_ error: any Error) -> Bool {
        (error as? HTTPClientError) == .getConnectionFromPoolTimeout
    }

    static func isTimeout(_ error: any Error) -> Bool {
        guard let clientError = error as? HTTPClientError else { return false }
        return clientError == .deadlineExceeded || clientError == .readTimeout
    }

    static func timeAmount(_ duration: Duration) -> TimeAmount {
        .nanoseconds(duration.nanoseconds)
    }
}
