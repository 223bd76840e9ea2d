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

/// Sends a request to its upstream over pooled keep-alive connections and relays the answer.
///
/// - Per upstream: a concurrency limit (→ 503 at once), a circuit breaker (→ 503 with
///   `Retry-After` while open), a deadline for the response head (→ 504). The deadline does not
///   cover the body, so event streams stay open.
/// - Retries, with capped exponential backoff and full jitter, only for idempotent methods and
///   only when no response arrived or the upstream answered 502/503/504; a timeout is never
///   retried (the 504 must arrive within the timeout).
/// - Small bodies (≤ 256 KiB with a `Content-Length`) are relayed whole, anything else streams
///   to its end; event streams also end when the gateway shuts down gracefully.
struct UpstreamProxy: Sendable {
    let client: HTTPClient
    let bases: [UpstreamName: String]
    let guards: [UpstreamName: UpstreamGuard]
    let policy: UpstreamPolicy
    let backoff = RetryBackoff()
    let logger: Logger
    private let latency: [UpstreamName: Timer]

    static let wholeBodyLimit = 256 * 1_024

    init(client: HTTPClient, upstreams: [UpstreamName: URL], policy: UpstreamPolicy, logger: Logger) {
        self.client = client
        self.bases = upstreams.mapValues { url in
            url.absoluteString.hasSuffix("/") ? String(url.absoluteString.dropLast()) : url.absoluteString
        }
        self.guards = Dictionary(uniqueKeysWithValues: UpstreamName.allCases.map { ($0, UpstreamGuard(upstream: $0, policy: policy)) })
        self.policy = policy
        self.logger = logger
        self.latency = Dictionary(uniqueKeysWithValues: UpstreamName.allCases.map {
            ($0, Timer(label: "gateway_upstream_duration_seconds", dimensions: [("upstream", $0.rawValue)], preferredDisplayUnit: .seconds))
        })
    }

    /// Forwards `request` (whose body was already read into `body`) to `upstream` with `headers`.
    func forward(
        _ request: Request, body: ByteBuffer?, to upstream: UpstreamName, headers: HTTPFields
    ) async throws(ProxyFailure) -> Response {
        guard let upstreamGuard = guards[upstream], let base = bases[upstream] else { throw .unreachable }
        guard upstreamGuard.acquireSlot() else { throw .saturated }
        defer { upstreamGuard.releaseSlot() }

        var outbound = HTTPClientRequest(url: base + request.uri.path + (request.uri.query.map { "?\($0)" } ?? ""))
        outbound.method = HTTPMethod(rawValue: request.method.rawValue)
        outbound.headers.reserveCapacity(headers.count)
        for field in headers { outbound.headers.add(name: field.name.rawName, value: field.value) }
        if let body { outbound.body = .bytes(body) }

        let idempotent = RetryBackoff.isIdempotent(request.method)
        // One budget for every attempt: the client gets its answer (or 504) within the timeout.
        let deadline = NIODeadline.now() + Self.timeAmount(policy.requestTimeout)
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            if case .rejected(let retryAfter) = upstreamGuard.admit() { throw .breakerOpen(retryAfter: retryAfter) }
            let started = ContinuousClock.now
            let response: HTTPClientResponse
            do {
                response = try await client.execute(outbound, deadline: deadline, logger: logger)
            } catch {
                if Self.isPoolExhausted(error) {
                    // Our own connection pool is full (long streams hold connections): the upstream is fine.
                    upstreamGuard.record(.success)
                    throw .saturated
                }
                upstreamGuard.record(.failure)
                if Self.isTimeout(error) { throw .timeout }
                logger.debug("upstream unreachable", metadata: ["upstream": "\(upstream.rawValue)", "error": "\(error)"])
                if idempotent, attempt <= policy.retries, await pause(beforeRetry: attempt, deadline: deadline, using: &generator) { continue }
                throw .unreachable
            }
            latency[upstream]?.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            let unavailable = (502...504).contains(response.status.code)
            upstreamGuard.record(unavailable ? .failure : .success)
            if unavailable, idempotent, attempt <= policy.retries {
                _ = try? await response.body.collect(upTo: Self.wholeBodyLimit)
                if await pause(beforeRetry: attempt, deadline: deadline, using: &generator) { continue }
            }
            return try await relay(response)
        }
    }

    /// Sleeps the jittered backoff before a retry; false when the deadline leaves no room for
    /// it (or the request was cancelled), and the last answer stands.
    private func pause(
        beforeRetry attempt: Int, deadline: NIODeadline, using generator: inout SystemRandomNumberGenerator
    ) async -> Bool {
        let delay = backoff.delay(beforeRetry: attempt, using: &generator)
        let left = deadline - NIODeadline.now()
        guard !Task.isCancelled, left.nanoseconds > delay.nanoseconds + 10_000_000 else { return false }
        try? await Task.sleep(for: delay)
        return !Task.isCancelled
    }

    private func relay(_ upstream: HTTPClientResponse) async throws(ProxyFailure) -> Response {
        var headers = HTTPFields()
        headers.reserveCapacity(upstream.headers.count + 8)
        var contentLength: Int?
        for (name, value) in upstream.headers {
            guard let fieldName = HTTPField.Name(name) else { continue }
            if fieldName == .contentLength { contentLength = Int(value) }
            headers.append(HTTPField(name: fieldName, value: value))
        }
        headers = ForwardedHeaders.clientResponse(from: headers)
        let status = HTTPResponse.Status(code: Int(upstream.status.code))
        if let contentLength, contentLength <= Self.wholeBodyLimit {
            do {
                let body = try await upstream.body.collect(upTo: Self.wholeBodyLimit)
                return Response(status: status, headers: headers, body: .init(byteBuffer: body))
            } catch {
                throw .badResponse
            }
        }
        // An event stream (SSE) ends on graceful shutdown, so open streams never hold up SIGTERM
        // (clients reconnect with Last-Event-ID); any other body is relayed to its end.
        if headers[.contentType]?.hasPrefix("text/event-stream") == true {
            return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: upstream.body.cancelOnGracefulShutdown()))
        }
        return Response(status: status, headers: headers, body: ResponseBody(asyncSequence: upstream.body))
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
