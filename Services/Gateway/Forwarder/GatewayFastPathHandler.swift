import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Sits in each client connection's pipeline between the HTTP/1 codec and Hummingbird, and
/// answers the requests ``FastForwarder`` takes on the connection's own event loop; every other
/// request passes through to Hummingbird untouched.
///
/// HTTP/1 answers must leave in request order, so on one connection:
/// - a request this path takes while Hummingbird still owes an earlier answer is answered
///   meanwhile, but its answer waits here until Hummingbird's last part has gone out (a client
///   that saw a whole answer, a 204 say, may send its next request before that last part passes);
/// - while an answer of this path is being produced, nothing more is read, and what already
///   arrived — request parts, the client's half-close, decoding errors — waits here, in order,
///   and is replayed afterwards;
/// - a close asked for meanwhile (Hummingbird's graceful shutdown closes a connection it sees
///   idle; its request loop closes the output when the input ends) waits until the answer is out.
///
/// A streamed answer follows the client's writability (the upstream connection stops reading
/// while the client cannot take more) and ends at graceful shutdown, as the router path's
/// event streams do.
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

    /// Something that arrived while an answer was in the making.
    private enum Held {
        case part(HTTPRequestPart)
        case event(Any)
        case error(any Error)
    }

    private let forwarder: FastForwarder
    private var enabled = false
    private var mode = Mode.idle
    /// Answers Hummingbird still owes (requests passed, response ends not yet written).
    private var owedByRouter = 0
    private var held: CircularBuffer<Held> = []
    private var heldClose: (mode: CloseMode, promise: EventLoopPromise<Void>?)?
    private var readDeferred = false
    private var stream: UpstreamBodyStream?
    /// Whether ``stream`` is an event stream (`text/event-stream`): one that never ends by itself.
    private var streamIsEvents = false
    /// Graceful shutdown began: event streams end, other answers run to their end.
    private var quiescing = false
    private var task: Task<Void, Never>?
    private var executor: EventLoopExecutor?
    /// The answer being written, for the metrics once its last byte is out.
    private var measuring: ForwardedRequestMetrics.Measurement?
    /// An answer of this path that is ready while Hummingbird still owes an earlier one.
    private var waiting: ForwardedAnswer?
    /// A request passed to Hummingbird asked to close the connection after its answer: no
    /// later request is taken here (Hummingbird drops them, as HTTP/1 says).
    private var closeAsked = false

    init(forwarder: FastForwarder) {
        self.forwarder = forwarder
    }

    /// Whether requests wait for an answer of this path.
    private var holding: Bool {
        if case .answering = mode { return true }
        return !held.isEmpty
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // A connection on a loop without upstream connections of its own is left to the router.
        enabled = forwarder.pool.serves(context.eventLoop)
        executor = EventLoopExecutor(context.eventLoop)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if holding {
            held.append(.part(part))
        } else {
            handle(part, context: context)
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // Graceful shutdown: Hummingbird closes idle connections (a close held until the
            // answer is out). An event stream ends here, as on the router path; any other
            // streamed answer runs to its end (cutting it with a clean end would make a
            // truncated body look complete).
            quiescing = true
            context.fireUserInboundEventTriggered(event)
            if let stream, streamIsEvents {
                stream.cancel()
                endStream(context: context)
            }
        } else if holding {
            held.append(.event(event))
        } else {
            context.fireUserInboundEventTriggered(event)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        if holding {
            held.append(.error(error))
        } else {
            context.fireErrorCaught(error)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        stream?.wantsMore(context.channel.isWritable)
        context.fireChannelWritabilityChanged()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        // Only Hummingbird's writes come through here; this handler's own go straight on.
        guard case .end = unwrapOutboundIn(data) else { return context.write(data, promise: promise) }
        owedByRouter = max(0, owedByRouter - 1)
        context.write(data, promise: promise)
        if owedByRouter == 0, let answer = waiting {
            waiting = nil
            send(answer, context: context)
        }
    }

    /// No new bytes are read while an answer is in the making, so pipelined requests wait in the
    /// socket rather than here.
    func read(context: ChannelHandlerContext) {
        if holding {
            readDeferred = true
        } else {
            context.read()
        }
    }

    func close(context: ChannelHandlerContext, mode closeMode: CloseMode, promise: EventLoopPromise<Void>?) {
        guard holding, context.channel.isActive else { return context.close(mode: closeMode, promise: promise) }
        if owedByRouter > 0 {
            // Hummingbird closes before the end of an answer it owes (its body failed): nothing
            // may follow a cut answer, so this path's answer, ready or not, is dropped.
            return abandon(context: context, closing: promise)
        }
        if let earlier = heldClose {
            earlier.promise.map { promise?.futureResult.cascade(to: $0) }
            heldClose = (earlier.mode == .all || closeMode == .all ? .all : closeMode, promise ?? earlier.promise)
        } else {
            heldClose = (closeMode, promise)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        task?.cancel()
        task = nil
        stream?.cancel()
        stream = nil
        finishMeasurement()
        dropWaiting()
        held.removeAll()
        if let heldClose {
            self.heldClose = nil
            context.close(mode: heldClose.mode, promise: heldClose.promise)
        }
        context.fireChannelInactive()
    }

    /// Drops this path's answer (in the making or waiting) and closes the connection at once,
    /// with any close held until now.
    private func abandon(context: ChannelHandlerContext, closing promise: EventLoopPromise<Void>?) {
        owedByRouter = 0
        task?.cancel()
        task = nil
        dropWaiting()
        held.removeAll()
        let earlier = heldClose?.promise
        heldClose = nil
        if let earlier { promise?.futureResult.cascade(to: earlier) }
        context.close(mode: .all, promise: promise ?? earlier)
    }

    /// Lets go of the answer waiting for Hummingbird's, if any: it will never be written.
    private func dropWaiting() {
        guard let answer = waiting else { return }
        waiting = nil
        if case .streaming(let stream) = answer.body { stream.cancel() }
        answer.measurement.map(forwarder.metrics.finish)
    }

    private func handle(_ part: HTTPRequestPart, context: ChannelHandlerContext) {
        switch (mode, part) {
        case (.idle, .head(let head)):
            if enabled, !closeAsked, forwarder.takes(head) {
                mode = .reading(head)
            } else {
                if ConnectionHeader.asksToClose(head.headerFields) { closeAsked = true }
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
            held.append(.part(part))
        }
    }

    private func answer(_ head: HTTPRequest, context: ChannelHandlerContext) {
        guard let executor else { return }
        let eventLoop = context.eventLoop
        let bound = NIOLoopBound((handler: self, context: context), eventLoop: eventLoop)
        let clientAddress = context.channel.remoteAddress?.ipAddress
        let forwarder = self.forwarder
        task = Task(executorPreference: executor) {
            let answer = await forwarder.answer(head, clientAddress: clientAddress, on: executor)
            eventLoop.execute { bound.value.handler.write(answer, context: bound.value.context) }
        }
    }

    private func write(_ answer: ForwardedAnswer, context: ChannelHandlerContext) {
        task = nil
        measuring = answer.measurement
        guard context.channel.isActive else {
            if case .streaming(let stream) = answer.body { stream.cancel() }
            finishMeasurement()
            return
        }
        guard owedByRouter == 0 else {
            // Hummingbird's earlier answer is still going out; this one follows its last part,
            // and a streamed body stops reading from its upstream meanwhile.
            measuring = nil
            if case .streaming(let stream) = answer.body { stream.wantsMore(false) }
            waiting = answer
            return
        }
        send(answer, context: context)
    }

    /// Writes `answer` (Hummingbird owes nothing before it) and, once it is out, goes on.
    private func send(_ answer: ForwardedAnswer, context: ChannelHandlerContext) {
        measuring = answer.measurement
        context.write(wrapOutboundOut(.head(answer.head)), promise: nil)
        switch answer.body {
        case .whole(let body):
            if body.readableBytes > 0 { context.write(wrapOutboundOut(.body(body)), promise: nil) }
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
            finishAnswer(context: context)
        case .streaming(let stream):
            context.flush()
            self.stream = stream
            streamIsEvents = ForwardedHeaders.isEventStream(answer.head.headerFields)
            if quiescing, streamIsEvents {
                stream.cancel()
                return endStream(context: context)
            }
            stream.wantsMore(context.channel.isWritable)
            stream.attach { [weak self] event in
                guard let self else { return }
                switch event {
                case .body(let part):
                    context.writeAndFlush(self.wrapOutboundOut(.body(part)), promise: nil)
                case .end:
                    self.endStream(context: context)
                case .failed:
                    // The head is out, so the only honest signal left is cutting the response.
                    self.stream = nil
                    self.finishMeasurement()
                    context.close(promise: nil)
                }
            }
        }
    }

    private func endStream(context: ChannelHandlerContext) {
        stream = nil
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        finishAnswer(context: context)
    }

    /// Records the written (or abandoned) answer's metrics, once.
    private func finishMeasurement() {
        guard let measurement = measuring else { return }
        measuring = nil
        forwarder.metrics.finish(measurement)
    }

    /// The answer is written: honour a close asked for meanwhile, else replay what waited, in order.
    private func finishAnswer(context: ChannelHandlerContext) {
        finishMeasurement()
        mode = .idle
        var replayedParts = false
        while let next = held.first {
            // A replayed request this path takes starts the next answer; the rest waits for it.
            if case .answering = mode { break }
            _ = held.popFirst()
            switch next {
            case .part(let part):
                replayedParts = true
                handle(part, context: context)
            case .event(let event):
                if replayedParts { context.fireChannelReadComplete() }
                replayedParts = false
                context.fireUserInboundEventTriggered(event)
            case .error(let error):
                if replayedParts { context.fireChannelReadComplete() }
                replayedParts = false
                context.fireErrorCaught(error)
            }
        }
        // Hummingbird's channel hands reads on at the end of a read burst; end the replayed one.
        if replayedParts { context.fireChannelReadComplete() }
        guard !holding else { return }
        if let heldClose {
            self.heldClose = nil
            context.close(mode: heldClose.mode, promise: heldClose.promise)
            return
        }
        if readDeferred {
            readDeferred = false
            context.read()
        }
    }
}
