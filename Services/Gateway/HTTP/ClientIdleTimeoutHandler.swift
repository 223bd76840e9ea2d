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
/// stream stays open. Once an answer is produced, what counts is progress: its last bytes
/// handed to the socket, or the connection becoming writable again (the client read). A client
/// that stops reading its answer is closed after the timeout like an idle one. It sits first in the pipeline after the HTTP/1 codec, so it sees the
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

    /// An answer is produced once its end is queued; its end reaching the socket is progress.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        guard case .end = unwrapOutboundIn(data) else {
            context.write(data, promise: promise)
            return
        }
        owed = max(owed - 1, 0)
        lastActivity = .now()
        let written = context.eventLoop.makePromise(of: Void.self)
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { _ in bound.value.lastActivity = .now() }
        if let promise { written.futureResult.cascade(to: promise) }
        context.write(data, promise: written)
    }

    /// The client took bytes off a full connection: progress.
    func channelWritabilityChanged(context: ChannelHandlerContext) {
        if context.channel.isWritable { lastActivity = .now() }
        context.fireChannelWritabilityChanged()
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
