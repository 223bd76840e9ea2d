import Metrics
import NIOCore
import NIOHTTPTypes

/// Closes a client connection that has stayed idle for `timeout` (`GATEWAY_CLIENT_IDLE_TIMEOUT_MS`):
/// nothing read since the last answer ended (a keep-alive connection left open, or a request
/// head that never completes), or a request whose body stopped arriving. Without it, connections
/// that never send a whole request cost no rate-limit token and were kept for ever, until the
/// gateway ran out of file descriptors.
///
/// An answer being produced is never cut here: the upstream timeout governs it, and a long event
/// stream stays open. It sits first in the pipeline after the HTTP/1 codec, so it sees the
/// requests and answers of both paths (Hummingbird's own idle timeout sits behind the event-loop
/// path's handler and would take a connection busy on that path for an idle one).
final class ClientIdleTimeoutHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private let closed: Counter
    private var lastActivity = NIODeadline.now()
    /// Requests whose head arrived and whose answer has not ended.
    private var owed = 0
    /// A request's head arrived and its end has not.
    private var reading = false
    private var check: Scheduled<Void>?

    init(timeout: TimeAmount, closed: Counter) {
        self.timeout = timeout
        self.closed = closed
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { start(context) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        stop()
    }

    func channelActive(context: ChannelHandlerContext) {
        start(context)
        context.fireChannelActive()
    }

    func channelInactive(context: ChannelHandlerContext) {
        stop()
        context.fireChannelInactive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        lastActivity = .now()
        switch unwrapInboundIn(data) {
        case .head:
            owed += 1
            reading = true
        case .body:
            break
        case .end:
            reading = false
        }
        context.fireChannelRead(data)
    }

    /// An answer counts as done once its end has been written to the socket, not when it is
    /// queued: a whole answer waiting for a slow client is still being answered.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        let written = promise ?? context.eventLoop.makePromise(of: Void.self)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in bound.value.answered() }
        context.write(data, promise: written)
    }

    private func answered() {
        owed = max(owed - 1, 0)
        lastActivity = .now()
    }

    private func start(_ context: ChannelHandlerContext) {
        guard check == nil else { return }
        lastActivity = .now()
        schedule(context, at: lastActivity + timeout)
    }

    private func stop() {
        check?.cancel()
        check = nil
    }

    private func schedule(_ context: ChannelHandlerContext, at deadline: NIODeadline) {
        let bound = NIOLoopBound(context, eventLoop: context.eventLoop)
        check = context.eventLoop.assumeIsolated().scheduleTask(deadline: deadline) { [weak self] () -> Void in
            self?.fire(bound.value)
        }
    }

    private func fire(_ context: ChannelHandlerContext) {
        check = nil
        guard context.channel.isActive else { return }
        // Answers still owed for requests read whole: the upstream timeout governs those.
        let answering = reading ? owed > 1 : owed > 0
        let due = lastActivity + timeout
        if answering {
            schedule(context, at: .now() + timeout)
        } else if NIODeadline.now() >= due {
            closed.increment()
            context.close(promise: nil)
        } else {
            schedule(context, at: due)
        }
    }
}
