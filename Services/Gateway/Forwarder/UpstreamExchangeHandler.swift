import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Why one exchange on an upstream connection failed.
enum UpstreamExchangeError: Error, Sendable, Equatable {
    /// The connection closed before a single byte of an answer: the request was probably never
    /// read (an idle keep-alive connection the upstream had just closed).
    case closedBeforeAnswer
    /// The connection broke after the answer began (or sent something that is not one).
    case brokeOff
    /// No response head before the deadline, a small body not whole by then, or a streamed body
    /// with no part for the idle timeout while the client was taking more.
    case timeout
    /// The connection is busy or closed (a bug if it happens: the pool hands out idle ones only).
    case unavailable
}

/// The client side of one upstream keep-alive connection: one request at a time, the answer
/// collected whole when it is small or handed over as an ``UpstreamBodyStream`` otherwise.
///
/// Time limits: the exchange's deadline covers the response head and, for a body collected
/// whole, that body's end. A streamed body may take as long as it needs, but not fall silent:
/// when no part arrives for `bodyIdleTimeout` while the client is taking more (time during
/// which the client's backpressure paused reading does not count), the stream fails and the
/// connection closes. Without these limits an upstream that sends a head and then stalls would
/// hold its client, and its concurrency slot, for as long as the upstream kept the connection.
/// An event stream (`text/event-stream`) has no idle limit: quiet stretches are normal there.
///
/// Lives in the connection's pipeline after NIO's HTTP/1 client codecs; everything runs on the
/// connection's event loop.
final class UpstreamExchangeHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPRequestPart

    private enum State {
        case idle
        case awaitingHead(EventLoopPromise<UpstreamReply>, Scheduled<Void>)
        /// The deadline's timer keeps running until the body is whole.
        case collecting(EventLoopPromise<UpstreamReply>, HTTPResponse, ByteBuffer, Scheduled<Void>)
        case streaming(UpstreamBodyStream)
        case closed
    }

    private let wholeBodyLimit: Int
    private let bodyIdleTimeout: TimeAmount
    private let eventLoop: any EventLoop
    private var state = State.idle
    /// While streaming: when the quiet period began (the last part, or reading resumed), whether
    /// the connection is reading, and the pending idle check.
    private var quietSince = NIODeadline.uptimeNanoseconds(0)
    private var reading = true
    private var idleCheck: Scheduled<Void>?
    private var context: ChannelHandlerContext?
    private var keepAlive = true
    /// Called when an exchange ended and the connection can carry another one.
    var onReusable: (() -> Void)?

    init(wholeBodyLimit: Int, bodyIdleTimeout: TimeAmount, eventLoop: any EventLoop) {
        self.wholeBodyLimit = wholeBodyLimit
        self.bodyIdleTimeout = bodyIdleTimeout
        self.eventLoop = eventLoop
    }

    /// Whether the connection can take a request now.
    var isIdle: Bool {
        if case .idle = state { return context?.channel.isActive ?? false }
        return false
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
    }

    /// Sends `request` (without a body); the future completes with the head (streamed bodies)
    /// or the whole answer, or fails with an ``UpstreamExchangeError``.
    func send(_ request: HTTPRequest, deadline: NIODeadline) -> EventLoopFuture<UpstreamReply> {
        guard let context, case .idle = state, context.channel.isActive else {
            return eventLoop.makeFailedFuture(UpstreamExchangeError.unavailable)
        }
        let promise = context.eventLoop.makePromise(of: UpstreamReply.self)
        let timeout = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.timedOut()
        }
        state = .awaitingHead(promise, timeout)
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        return promise.futureResult
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            guard head.status.kind != .informational else { return }
            guard case .awaitingHead(let promise, let timeout) = state else { return fail(context, .brokeOff) }
            if ConnectionHeader.asksToClose(head.headerFields) { keepAlive = false }
            if let length = head.headerFields[.contentLength].flatMap({ Int($0) }), length <= wholeBodyLimit {
                state = .collecting(promise, head, context.channel.allocator.buffer(capacity: length), timeout)
            } else {
                timeout.cancel()
                let stream = UpstreamBodyStream(
                    eventLoop: context.eventLoop,
                    demand: { [weak self] wanted in self?.setReading(wanted) },
                    cancel: { [weak self] in self?.context?.close(promise: nil) }
                )
                state = .streaming(stream)
                // An event stream is quiet by nature between its events (its heartbeats are the
                // upstream's business); it ends when either side closes.
                if !ForwardedHeaders.isEventStream(head.headerFields) {
                    quietSince = eventLoop.now
                    scheduleIdleCheck(at: quietSince + bodyIdleTimeout)
                }
                promise.succeed(UpstreamReply(head: head, body: .streaming(stream)))
            }
        case .body(let part):
            switch state {
            case .collecting(let promise, let head, var body, let timeout):
                state = .idle  // keeps `body` uniquely referenced while it grows
                body.writeImmutableBuffer(part)
                state = .collecting(promise, head, body, timeout)
            case .streaming(let stream):
                quietSince = eventLoop.now
                stream.deliver(.body(part))
            case .idle, .awaitingHead, .closed:
                break
            }
        case .end:
            switch state {
            case .collecting(let promise, let head, let body, let timeout):
                state = .idle
                timeout.cancel()
                promise.succeed(UpstreamReply(head: head, body: .whole(body)))
            case .streaming(let stream):
                state = .idle
                stopIdleCheck()
                setReading(true)
                stream.deliver(.end)
            case .idle, .awaitingHead, .closed:
                return
            }
            if keepAlive { onReusable?() } else { context.close(promise: nil) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, nil)
        context.fireChannelInactive()
    }

    /// A reset before any answer counts as a close before the answer (a stale keep-alive
    /// connection shows up either way).
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        fail(context, nil)
    }

    /// Starts or stops reading from the upstream (backpressure for streamed bodies). A quiet
    /// period starts afresh when reading resumes: the pause was the client's, not the upstream's.
    private func setReading(_ reading: Bool) {
        if reading, !self.reading { quietSince = eventLoop.now }
        self.reading = reading
        try? context?.channel.syncOptions?.setOption(.autoRead, value: reading)
    }

    private func scheduleIdleCheck(at deadline: NIODeadline) {
        idleCheck = eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.checkIdle()
        }
    }

    private func stopIdleCheck() {
        idleCheck?.cancel()
        idleCheck = nil
    }

    /// Fails a streamed body that has been silent for the idle timeout while reading; otherwise
    /// looks again when the current quiet period would reach it.
    private func checkIdle() {
        idleCheck = nil
        guard let context, case .streaming = state else { return }
        let limit = quietSince + bodyIdleTimeout
        guard reading, eventLoop.now >= limit else {
            return scheduleIdleCheck(at: reading ? limit : eventLoop.now + bodyIdleTimeout)
        }
        fail(context, .timeout)
    }

    /// Closes the connection (the pool has enough idle ones, or is shutting down); the future
    /// completes once it is closed.
    @discardableResult
    func close() -> EventLoopFuture<Void> {
        guard let context else { return eventLoop.makeSucceededVoidFuture() }
        context.close(promise: nil)
        return context.channel.closeFuture
    }

    private func timedOut() {
        guard let context else { return }
        switch state {
        case .awaitingHead, .collecting: fail(context, .timeout)
        case .idle, .streaming, .closed: return
        }
    }

    /// Ends the current exchange with `error` (or what a close at this point means) and closes.
    private func fail(_ context: ChannelHandlerContext, _ error: UpstreamExchangeError?) {
        let current = state
        state = .closed
        switch current {
        case .awaitingHead(let promise, let timeout):
            timeout.cancel()
            promise.fail(error ?? .closedBeforeAnswer)
        case .collecting(let promise, _, _, let timeout):
            timeout.cancel()
            promise.fail(error ?? .brokeOff)
        case .streaming(let stream):
            stopIdleCheck()
            stream.deliver(.failed)
        case .idle, .closed:
            break
        }
        context.close(promise: nil)
    }
}
