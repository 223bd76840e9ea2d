import HTTPTypes
import NIOCore
import NIOHTTP1
import NIOHTTPTypesHTTP1
import NIOPosix

/// Keep-alive HTTP/1.1 connections to the upstreams, pooled per event loop, so that a request
/// read on one loop is sent, answered and relayed on that same loop's thread.
///
/// A connection carries one exchange at a time (``UpstreamExchangeHandler``) and goes back to
/// its loop's idle list when the answer has ended with keep-alive; at most `maxIdlePerUpstream`
/// idle connections are kept per loop and upstream. A request that meets a reused connection
/// already closed by the upstream before any answer is sent once more on a new connection
/// (the pool only carries bodiless GET requests, so this is safe). A connection idle for longer
/// than `maxIdleTime` is closed instead of reused when the pool next looks for one, and sockets
/// have TCP keep-alive on: a peer gone without a FIN (a host lost, a NAT entry dropped) would
/// otherwise cost the next request its whole deadline. At graceful shutdown
/// ``closeIdleConnections()`` closes the idle connections, and none is kept from then on.
final class UpstreamChannelPool: Sendable {
    /// Where an upstream listens.
    struct Target: Sendable, Hashable {
        var host: String
        var port: Int
    }

    private let targets: [UpstreamName: Target]
    private let pools: [ObjectIdentifier: NIOLoopBoundBox<LoopPool>]
    private let connectTimeout: TimeAmount
    private let maxIdlePerUpstream: Int
    private let maxIdleTime: TimeAmount
    private let wholeBodyLimit: Int
    private let bodyIdleTimeout: TimeAmount

    /// How long a connection may wait idle and still be reused, as async-http-client's pool
    /// (the router path's) keeps its connections by default.
    static let defaultMaxIdleTime: Duration = .seconds(60)

    /// `bodyIdleTimeout`: how long a streamed body may stay silent while the client takes more
    /// (see ``UpstreamExchangeHandler``). `maxIdleTime`: how long an idle connection may be reused.
    init(
        group: any EventLoopGroup, targets: [UpstreamName: Target], connectTimeout: Duration,
        maxIdlePerUpstream: Int, maxIdleTime: Duration = defaultMaxIdleTime, wholeBodyLimit: Int, bodyIdleTimeout: Duration
    ) {
        var pools: [ObjectIdentifier: NIOLoopBoundBox<LoopPool>] = [:]
        for loop in group.makeIterator() {
            pools[ObjectIdentifier(loop)] = .makeBoxSendingValue(LoopPool(), eventLoop: loop)
        }
        self.pools = pools
        self.targets = targets
        self.connectTimeout = .nanoseconds(connectTimeout.nanoseconds)
        self.maxIdlePerUpstream = maxIdlePerUpstream
        self.maxIdleTime = .nanoseconds(maxIdleTime.nanoseconds)
        self.wholeBodyLimit = wholeBodyLimit
        self.bodyIdleTimeout = .nanoseconds(bodyIdleTimeout.nanoseconds)
    }

    /// Whether `eventLoop` has connections here (the loops of the group given at init).
    func serves(_ eventLoop: any EventLoop) -> Bool {
        pools[ObjectIdentifier(eventLoop)] != nil
    }

    /// Closes every idle connection, on every loop, and keeps none from now on: a connection
    /// whose exchange ends later is closed then. Returns once the idle ones are closed. For
    /// graceful shutdown, after the server stopped taking requests.
    func closeIdleConnections() async {
        for pool in pools.values {
            let closing = pool.eventLoop.flatSubmit {
                EventLoopFuture.andAllComplete(pool.value.closeAll(), on: pool.eventLoop)
            }
            try? await closing.get()
        }
    }

    /// Sends the bodiless `request` to `upstream` over a connection of `eventLoop`, the caller's
    /// loop, which must be one this pool ``serves(_:)``. Fails with ``UpstreamExchangeError``
    /// or a connect error.
    func exchange(
        _ request: HTTPRequest, with upstream: UpstreamName, on eventLoop: any EventLoop, deadline: NIODeadline
    ) -> EventLoopFuture<UpstreamReply> {
        guard let target = targets[upstream], let pool = pools[ObjectIdentifier(eventLoop)] else {
            return eventLoop.makeFailedFuture(UpstreamExchangeError.unavailable)
        }
        guard eventLoop.inEventLoop else {
            return eventLoop.flatSubmit { self.exchange(request, with: upstream, on: eventLoop, deadline: deadline) }
        }
        guard let reused = pool.value.takeIdle(upstream, idleSince: .now() - maxIdleTime) else {
            return exchangeOnNewConnection(request, to: target, upstream: upstream, pool: pool, deadline: deadline)
        }
        return reused.send(request, deadline: deadline).flatMapError { error in
            guard case UpstreamExchangeError.closedBeforeAnswer = error else { return eventLoop.makeFailedFuture(error) }
            return self.exchangeOnNewConnection(request, to: target, upstream: upstream, pool: pool, deadline: deadline)
        }
    }

    private func exchangeOnNewConnection(
        _ request: HTTPRequest, to target: Target, upstream: UpstreamName, pool: NIOLoopBoundBox<LoopPool>, deadline: NIODeadline
    ) -> EventLoopFuture<UpstreamReply> {
        let eventLoop = pool.eventLoop
        let wholeBodyLimit = self.wholeBodyLimit
        let bodyIdleTimeout = self.bodyIdleTimeout
        let maxIdle = maxIdlePerUpstream
        // Connecting counts against the request's deadline too.
        let connectTimeout = min(self.connectTimeout, deadline - NIODeadline.now())
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(max(connectTimeout, .milliseconds(1)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(HTTP1ToHTTPClientCodec())
                    try channel.pipeline.syncOperations.addHandler(
                        UpstreamExchangeHandler(wholeBodyLimit: wholeBodyLimit, bodyIdleTimeout: bodyIdleTimeout, eventLoop: channel.eventLoop)
                    )
                }
            }
            .connect(host: target.host, port: target.port)
            .flatMap { channel in
                let handler: UpstreamExchangeHandler
                do {
                    handler = try channel.pipeline.syncOperations.handler(type: UpstreamExchangeHandler.self)
                } catch {
                    channel.close(promise: nil)
                    return eventLoop.makeFailedFuture(error)
                }
                handler.onReusable = { [weak handler] in
                    guard let handler else { return }
                    pool.value.putIdle(handler, for: upstream, keepingAtMost: maxIdle)
                }
                return handler.send(request, deadline: deadline)
            }
    }
}

/// One event loop's idle connections, per upstream, oldest first. Used only on that loop.
private final class LoopPool {
    private struct Idle {
        let handler: UpstreamExchangeHandler
        let since: NIODeadline
    }

    private var idle: [UpstreamName: [Idle]] = [:]
    /// Set at shutdown: connections are closed instead of kept.
    private var closed = false

    /// The most recently used idle connection that is still open, after closing those idle
    /// since before `idleSince`.
    /// The list is changed in place in the dictionary (no copy of it on this per-request path).
    func takeIdle(_ upstream: UpstreamName, idleSince oldest: NIODeadline) -> UpstreamExchangeHandler? {
        let staleCount = idle[upstream]?.prefix { $0.since < oldest }.count ?? 0
        if staleCount > 0 {
            idle[upstream]?.prefix(staleCount).forEach { _ = $0.handler.close() }
            idle[upstream]?.removeFirst(staleCount)
        }
        while let last = idle[upstream]?.popLast() {
            if last.handler.isIdle { return last.handler }
        }
        return nil
    }

    func putIdle(_ handler: UpstreamExchangeHandler, for upstream: UpstreamName, keepingAtMost limit: Int) {
        if !closed, idle[upstream, default: []].count < limit {
            idle[upstream, default: []].append(Idle(handler: handler, since: .now()))
        } else {
            handler.close()
        }
    }

    /// Closes the idle connections and keeps none from now on; the futures complete as they close.
    func closeAll() -> [EventLoopFuture<Void>] {
        closed = true
        let handlers = idle.values.flatMap { $0 }.map(\.handler)
        idle.removeAll()
        return handlers.map { $0.close() }
    }
}
