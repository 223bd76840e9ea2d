import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits in each client connection's pipeline between the HTTP/1 codec and Hummingbird, and
/// answers the requests ``FastForwarder`` takes on the connection's own event loop; every other
/// request passes through to Hummingbird untouched.
///
/// HTTP/1 answers must leave in request order, so on one connection:
/// - while Hummingbird still owes an answer, new requests pass to it too;
/// - while an answer of this path is being produced, later request parts wait here (pipelining)
///   and are replayed afterwards;
/// - no more bytes are read meanwhile;
/// - a close asked for meanwhile (Hummingbird's graceful shutdown closes a connection it sees
///   idle) waits until the answer is written.
final class GatewayFastPathHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private enum Mode {
        /// Between requests.
        case idle
        /// Parts of a request Hummingbird answers.
        case passing
        /// A request this path takes, until its end arrives.
        case reading(HTTPRequest)
        /// Producing or writing this path's answer.
        case answering
    }

    private let forwarder: FastForwarder
    private var mode = Mode.idle
    /// Answers Hummingbird still owes (requests passed, response ends not yet written).
    private var owedByRouter = 0
    private var waiting: CircularBuffer<HTTPRequestPart> = []
    private var closeRequested: (mode: CloseMode, promise: EventLoopPromise<Void>?)?
    private var readDeferred = false
    private var stream: UpstreamBodyStream?
    private var executor: EventLoopExecutor?

    init(forwarder: FastForwarder) {
        self.forwarder = forwarder
    }

    func handlerAdded(context: ChannelHandlerContext) {
        executor = EventLoopExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if case .answering = mode {
            waiting.append(part)
        } else {
            handle(part, context: context)
        }
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's writes come through here; this handler's own go straight on.
        if case .end = unwrapOutboundIn(data) { owedByRouter = max(0, owedByRouter - 1) }
        context.write(data, promise: promise)
    }

    /// No new bytes are read while an answer is in the making, so pipelined requests wait in the
    /// socket rather than here.
    func read(context: ChannelHandlerContext) {
        if case .answering = mode {
            readDeferred = true
        } else {
            context.read()
        }
    }

    func close(context: ChannelHandlerContext, mode closeMode: CloseMode, promise: EventLoopPromise<Void>?) {
        if case .answering = mode, closeMode == .all {
            closeRequested = (closeMode, promise)
        } else {
            context.close(mode: closeMode, promise: promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        stream?.cancel()
        stream = nil
        context.fireChannelInactive()
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            if owedByRouter == 0, forwarder.takes(head) {
                mode = .reading(head)
            } else {
                mode = .passing
                owedByRouter += 1
                context.fireChannelRead(wrapInboundOut(part))
            }
        case (.passing, .end):
            mode = .idle
            context.fireChannelRead(wrapInboundOut(part))
        case (.passing, _), (.idle, _):
            context.fireChannelRead(wrapInboundOut(part))
        case (.reading(let head), .end):
            mode = .answering
            answer(head, context: context)
        case (.reading, _):
            // A taken request has neither Content-Length nor Transfer-Encoding, so HTTP/1 framing
            // gives it no body; there is nothing else to read.
            break
        case (.answering, _):
            waiting.append(part)
        }
    }

    private func answer(_ head: HTTPRequest, context: ChannelHandlerContext) {
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let clientAddress = context.channel.remoteAddress?.ipAddress
        let forwarder = self.forwarder
        guard let executor else { return }
        Task(executorPreference: executor) {
            let answer = await forwarder.answer(head, clientAddress: clientAddress, on: eventLoop)
            eventLoop.execute { bound.value.handler.write(answer, context: bound.value.context) }
        }
    }

    private func write(_ answer: ForwardedAnswer, context: ChannelHandlerContext) {
        guard context.channel.isActive else {
            if case .streaming(let stream) = answer.body { stream.cancel() }
            return finishAnswer(context: context)
        }
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        switch answer.body {
        case .whole(let body):
            if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            finishAnswer(context: context)
        case .streaming(let stream):
            context.flush()
            self.stream = stream
            stream.attach { [weak self] event in
                guard let self else { return }
                switch event {
                case .body(let part):
                    context.writeAndFlush(self.wrapOutboundOut(.body(part)), promise: nil)
                case .end:
                    self.stream = nil
                    context.writeAndFlush(self.wrapOutboundOut(.end(nil)), promise: nil)
                    self.finishAnswer(context: context)
                case .failed:
                    // The head is out, so the only honest signal left is cutting the response.
                    self.stream = nil
                    context.close(promise: nil)
                }
            }
        }
    }

    /// The answer is written: honour a close asked for meanwhile, else read on.
    private func finishAnswer(context: ChannelHandlerContext) {
        mode = .idle
        if let closeRequested {
            self.closeRequested = nil
            context.close(mode: closeRequested.mode, promise: closeRequested.promise)
            return
        }
        let replayed = !waiting.isEmpty
        while let part = waiting.popFirst() {
            if case .answering = mode {
                waiting.prepend(part)
                break
            }
            handle(part, context: context)
        }
        // Hummingbird's channel hands reads on at the end of a read burst; end the replayed one.
        if replayed { context.fireChannelReadComplete() }
        if case .answering = mode { return }
        if readDeferred {
            readDeferred = false
            context.read()
        }
    }
}
