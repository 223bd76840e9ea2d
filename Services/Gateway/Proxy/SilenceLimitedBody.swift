import AsyncHTTPClient
import Hummingbird
import Logging
import NIOCore
import Synchronization

/// A streamed upstream body on the router path, relayed part by part and cut when the upstream
/// stays silent for longer than `limit` while the client is ready for more.
///
/// async-http-client's read timeout is set per client, not per request, and counts the time a
/// slow client holds the stream back; this relay decides per answer. A reader task pulls the
/// upstream's parts one at a time and hands each over only when the client has taken the one
/// before (so the client's backpressure reaches the upstream); a watchdog task ends the relay
/// with ``UpstreamBodySilent`` once the reader has waited on the upstream for `limit`. The time a
/// part spends with the client does not count. The error makes the server close the client's
/// connection, so a cut answer never looks complete, and leaving the task group cancels the
/// reader, which makes async-http-client drop the upstream connection.
///
/// The event-loop path enforces the same rule in ``UpstreamExchangeHandler``.
struct SilenceLimitedBody: Sendable {
    /// The upstream's body.
    let upstream: HTTPClientResponse.Body
    /// The longest the upstream may stay silent while the client waits.
    let limit: Duration
    /// Where a cut is reported.
    let logger: Logger

    /// The body as Hummingbird writes it.
    var responseBody: ResponseBody {
        ResponseBody { writer in
            do {
                try await relay(to: &writer)
            } catch let silent as UpstreamBodySilent {
                logger.warning("upstream body cut", metadata: ["reason": "\(silent)"])
                throw silent
            }
            try await writer.finish(nil)
        }
    }

    private func relay(to writer: inout any ResponseBodyWriter) async throws {
        let (parts, partSink) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        let (taken, takenSink) = AsyncStream<Void>.makeStream()
        let watch = SilenceWatch()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [upstream] in
                var takenIterator = taken.makeAsyncIterator()
                do {
                    watch.waitingOnUpstream()
                    for try await part in upstream {
                        watch.partWithClient()
                        partSink.yield(part)
                        guard await takenIterator.next() != nil else { return }
                        watch.waitingOnUpstream()
                    }
                    // An iteration cancelled with the relay may end quietly too: no end of the body.
                    try Task.checkCancellation()
                    watch.upstreamEnded()
                    partSink.finish()
                } catch {
                    partSink.finish(throwing: error)
                }
            }
            group.addTask { [limit] in
                try await watch.sleepUntilSilent(for: limit)
                partSink.finish(throwing: UpstreamBodySilent(limit: limit))
            }
            defer { group.cancelAll() }
            for try await part in parts {
                try await writer.write(part)
                takenSink.yield()
            }
            // A cancelled stream also ends quietly: only the upstream's own end may end the body.
            guard watch.hasUpstreamEnded else { throw CancellationError() }
        }
    }
}

/// The upstream sent nothing for `limit` while the client waited for more of its body.
struct UpstreamBodySilent: Error, Sendable, CustomStringConvertible {
    /// The silence allowed, which the upstream reached.
    let limit: Duration

    var description: String { "the upstream's body stayed silent for \(limit)" }
}

/// Since when the reader of a ``SilenceLimitedBody`` has been waiting on the upstream (`nil`
/// while its last part is with the client), and whether the upstream's body has ended.
private final class SilenceWatch: Sendable {
    private let waitingSince = Mutex<ContinuousClock.Instant?>(nil)
    private let ended = Mutex(false)

    func waitingOnUpstream() {
        waitingSince.withLock { $0 = .now }
    }

    func partWithClient() {
        waitingSince.withLock { $0 = nil }
    }

    func upstreamEnded() {
        ended.withLock { $0 = true }
    }

    var hasUpstreamEnded: Bool {
        ended.withLock { $0 }
    }

    /// Returns once the reader has waited on the upstream for `limit` without a part; throws
    /// `CancellationError` when the relay ends first.
    func sleepUntilSilent(for limit: Duration) async throws {
        while true {
            let now = ContinuousClock.now
            guard let since = waitingSince.withLock({ $0 }) else {
                try await Task.sleep(until: now + limit, clock: .continuous)
                continue
            }
            if now - since >= limit { return }
            try await Task.sleep(until: since + limit, clock: .continuous)
        }
    }
}
