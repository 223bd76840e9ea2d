import NIOCore

#if canImport(Glibc)
import Glibc
#endif

/// Commands written to a Redis channel as one pipeline, and the promise their replies complete.
struct RedisRequest: Sendable {
    let commands: [RedisCommand]
    let promise: EventLoopPromise<[RedisValue]>
}

/// Why a request on a Redis channel failed, and whether the server can have run it.
struct RedisChannelFailure: Error, Sendable {
    let error: RedisError
    /// The request went out on a connection that had served requests and then gone quiet (nothing
    /// outstanding), and the connection was found closed or reset before the server answered
    /// anything written since: the server had dropped the idle connection (it restarted, or
    /// killed the client), so it never read the command, and sending it once more on a new
    /// connection is safe. So is a request that never reached the connection, or reached it
    /// after it had failed (nothing was written). Timeouts never qualify.
    let neverExecuted: Bool
}

/// Multiplexes pipelines over one Redis connection: requests are written as they come, and since
/// Redis answers in order, replies complete the oldest outstanding request first.
///
/// Flushes are coalesced: a flush is deferred to a task at the end of what the event loop is
/// running now, so the commands of every request served in the meantime leave in one socket
/// write and their replies usually come back in one read (automatic pipelining; under load this
/// saves a write and a read per request on both sides).
///
/// One timer per connection bounds the wait for the oldest request; when it fires late, every
/// outstanding request fails and the connection closes (replies after a timeout could not be
/// matched to their requests any more). Lives on its channel's event loop only.
final class RedisChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Outstanding {
        let expected: Int
        var replies: [RedisValue]
        let promise: EventLoopPromise<[RedisValue]>
        let deadline: NIODeadline
        /// Written after the connection had gone quiet (see ``quietSinceIdle``), and no reply
        /// has arrived since.
        var sentIntoQuiet: Bool
    }

    private let parser: RedisReplyParser
    private let commandTimeout: TimeAmount
    private var outstanding = CircularBuffer<Outstanding>()
    private var timer: Scheduled<Void>?
    private var servedAny = false
    /// The connection had served requests, then had none outstanding, and nothing has been
    /// answered since: if it now turns out closed or reset, the server went away before reading
    /// what was written meanwhile (it restarted, or dropped the idle connection).
    private var quietSinceIdle = false
    private var failure: RedisError?
    private var flushScheduled = false

    init(parser: RedisReplyParser, commandTimeout: TimeAmount) {
        self.parser = parser
        self.commandTimeout = commandTimeout
    }

    /// Takes the request over: from here on its promise is completed by this handler (with the
    /// replies, or failed), so the write's own promise succeeds at once. That promise fails only
    /// when the request never got here (the channel had closed), which ``RedisChannelSlot`` relies on.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        promise?.succeed(())
        if let failure {
            // Never sent: the connection had already failed, so another one may carry it.
            request.promise.fail(RedisChannelFailure(error: failure, neverExecuted: true))
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: request.commands.reduce(0) { $0 + $1.encodedSizeEstimate })
        for command in request.commands { command.write(into: &buffer) }
        var replies: [RedisValue] = []
        replies.reserveCapacity(request.commands.count)
        if outstanding.isEmpty { quietSinceIdle = servedAny }
        outstanding.append(Outstanding(
            expected: request.commands.count, replies: replies, promise: request.promise,
            deadline: .now() + commandTimeout, sentIntoQuiet: quietSinceIdle
        ))
        armTimer(context)
        // A failed socket write surfaces as errorCaught / channelInactive, which fail the request.
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func flush(context: ChannelHandlerContext) {
        guard !flushScheduled else { return }
        flushScheduled = true
        context.eventLoop.assumeIsolated().execute {
            self.flushScheduled = false
            context.flush()
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let buffer = unwrapInboundIn(data)
        do throws(RedisError) {
            try buffer.withUnsafeReadableBytes { bytes throws(RedisError) in try parser.feed(bytes) }
            if quietSinceIdle, buffer.readableBytes > 0 {
                // The server is answering (even part of a reply): whatever is outstanding may have run.
                quietSinceIdle = false
                for index in outstanding.indices { outstanding[index].sentIntoQuiet = false }
            }
            while let reply = try parser.next() {
                guard !outstanding.isEmpty else { throw .connectionLost("a reply no request was waiting for") }
                outstanding[outstanding.startIndex].replies.append(reply)
                if outstanding[outstanding.startIndex].replies.count == outstanding[outstanding.startIndex].expected {
                    let done = outstanding.removeFirst()
                    servedAny = true
                    done.promise.succeed(done.replies)
                }
            }
        } catch {
            fail(context, error, closedOrReset: false)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        fail(context, .connectionLost("connection closed by the server"), closedOrReset: true)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let reset = (error as? IOError).map { $0.errnoCode == ECONNRESET || $0.errnoCode == EPIPE } ?? false
        fail(context, .connectionLost("\(error)"), closedOrReset: reset)
    }

    /// Fails every outstanding request (and any written later) and closes the connection.
    private func fail(_ context: ChannelHandlerContext, _ error: RedisError, closedOrReset: Bool) {
        if failure == nil { failure = error }
        timer?.cancel()
        timer = nil
        let failed = outstanding
        outstanding.removeAll()
        for request in failed {
            let neverExecuted = closedOrReset && request.sentIntoQuiet
            request.promise.fail(RedisChannelFailure(error: error, neverExecuted: neverExecuted))
        }
        if context.channel.isActive { context.close(promise: nil) }
    }

    /// Keeps one timer armed while requests are outstanding, set for the oldest one's deadline.
    private func armTimer(_ context: ChannelHandlerContext) {
        guard timer == nil, let oldest = outstanding.first else { return }
        let loopBound = NIOLoopBound((handler: self, context: context), eventLoop: context.eventLoop)
        timer = context.eventLoop.scheduleTask(deadline: oldest.deadline) {
            let (handler, context) = loopBound.value
            handler.timer = nil
            guard let oldest = handler.outstanding.first else { return }
            if oldest.deadline <= .now() {
                handler.fail(context, .connectionLost("no reply within \(handler.commandTimeout.nanoseconds / 1_000_000) ms"), closedOrReset: false)
            } else {
                handler.armTimer(context)
            }
        }
    }
}
