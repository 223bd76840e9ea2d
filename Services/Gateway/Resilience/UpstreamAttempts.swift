import HTTPTypes
import Logging
import Metrics
import NIOCore

/// How one attempt to reach an upstream went wrong, whichever HTTP client made it.
enum UpstreamAttemptFailure: Error, Sendable {
    /// The gateway's own connection pool is full (long streams hold connections); the upstream is fine.
    case poolExhausted
    /// No response head (or, for a small body collected whole, not all of it) before the deadline.
    case timeout
    /// Refused, reset, closed before answering, or a connect timeout.
    case unreachable(reason: String)
    /// The answer began and then broke off: the upstream was reached, so no retry.
    case brokenAnswer
}

/// The resilience rules around every upstream call, shared by both proxy paths (the
/// async-http-client path in ``UpstreamProxy`` and the event-loop path in ``FastForwarder``).
///
/// - Per upstream: a concurrency limit (→ 503 at once), a circuit breaker (→ 503 with
///   `Retry-After` while open), one deadline (``deadline()``) for the response head across all
///   attempts, and for a small body's end (→ 504).
/// - Retries, with capped exponential backoff and full jitter, only for idempotent methods and
///   only when no response arrived or the upstream answered 502/503/504; a timeout is never
///   retried (the 504 must arrive within the timeout).
struct UpstreamAttempts: Sendable {
    let guards: [UpstreamName: UpstreamGuard]
    let policy: UpstreamPolicy
    let backoff = RetryBackoff()
    let logger: Logger
    private let latency: [UpstreamName: Timer]

    init(policy: UpstreamPolicy, logger: Logger) {
        self.guards = Dictionary(uniqueKeysWithValues: UpstreamName.allCases.map { ($0, UpstreamGuard(upstream: $0, policy: policy)) })
        self.policy = policy
        self.logger = logger
        self.latency = Dictionary(uniqueKeysWithValues: UpstreamName.allCases.map {
            ($0, Timer(label: "gateway_upstream_duration_seconds", dimensions: [("upstream", $0.rawValue)], preferredDisplayUnit: .seconds))
        })
    }

    /// Runs `body` holding one of the upstream's concurrency slots.
    func withSlot<Result>(
        _ upstream: UpstreamName, _ body: (UpstreamGuard) async throws(ProxyFailure) -> Result
    ) async throws(ProxyFailure) -> Result {
        guard let upstreamGuard = guards[upstream] else { throw .unreachable }
        guard upstreamGuard.acquireSlot() else { throw .saturated }
        defer { upstreamGuard.releaseSlot() }
        return try await body(upstreamGuard)
    }

    /// The deadline of a request starting now: the upstream timeout from now.
    func deadline() -> NIODeadline {
        NIODeadline.now() + .nanoseconds(policy.requestTimeout.nanoseconds)
    }

    /// Sends through `send` until an answer stands, under `upstreamGuard`'s breaker,
    /// `deadline` (from ``deadline()``) and the retry rules. `status` reads an answer's status code; `discard` drops an
    /// answer that is about to be retried.
    func run<Reply: Sendable>(
        _ method: HTTPRequest.Method, via upstreamGuard: UpstreamGuard, until deadline: NIODeadline,
        send: (NIODeadline) async throws(UpstreamAttemptFailure) -> Reply,
        status: (Reply) -> Int,
        discard: (Reply) async -> Void
    ) async throws(ProxyFailure) -> Reply {
        let upstream = upstreamGuard.upstream
        let idempotent = RetryBackoff.isIdempotent(method)
        var attempt = 0
        var generator = SystemRandomNumberGenerator()
        while true {
            attempt += 1
            let admission = upstreamGuard.admit()
            if case .rejected(let retryAfter) = admission { throw .breakerOpen(retryAfter: retryAfter) }
            let trial = admission == .trial
            let started = ContinuousClock.now
            let reply: Reply
            do {
                reply = try await send(deadline)
            } catch {
                switch error {
                case .poolExhausted:
                    upstreamGuard.record(.inconclusive, trial: trial)
                    throw .saturated
                case .timeout:
                    upstreamGuard.record(.failure, trial: trial)
                    throw .timeout
                case .brokenAnswer:
                    upstreamGuard.record(.failure, trial: trial)
                    throw .badResponse
                case .unreachable(let reason):
                    upstreamGuard.record(.failure, trial: trial)
                    logger.debug("upstream unreachable", metadata: ["upstream": "\(upstream.rawValue)", "error": "\(reason)"])
                    if idempotent, attempt <= policy.retries, let delay = room(beforeRetry: attempt, deadline: deadline, using: &generator),
                       await sleep(delay) { continue }
                    throw .unreachable
                }
            }
            latency[upstream]?.recordNanoseconds((ContinuousClock.now - started).nanoseconds)
            let unavailable = (502...504).contains(status(reply))
            upstreamGuard.record(unavailable ? .failure : .success, trial: trial)
            // Without room for another try before the deadline, this answer stands.
            if unavailable, idempotent, attempt <= policy.retries,
               let delay = room(beforeRetry: attempt, deadline: deadline, using: &generator) {
                await discard(reply)
                if deadline - NIODeadline.now() > .nanoseconds(delay.nanoseconds + 10_000_000), await sleep(delay) { continue }
                throw .unreachable
            }
            return reply
        }
    }

    /// The jittered backoff before retry number `attempt`, or nil when the deadline leaves no
    /// room for it (or the request was cancelled).
    private func room(
        beforeRetry attempt: Int, deadline: NIODeadline, using generator: inout SystemRandomNumberGenerator
    ) -> Duration? {
        let delay = backoff.delay(beforeRetry: attempt, using: &generator)
        let left = deadline - NIODeadline.now()
        guard !Task.isCancelled, left.nanoseconds > delay.nanoseconds + 10_000_000 else { return nil }
        return delay
    }

    /// Sleeps `delay`; false when the request was cancelled meanwhile.
    private func sleep(_ delay: Duration) async -> Bool {
        try? await Task.sleep(for: delay)
        return !Task.isCancelled
    }
}
