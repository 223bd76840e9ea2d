import HummingbirdCore
import Logging
import NIOCore

/// Hummingbird's HTTP/1 child channel, with each connection's whole life — reading requests,
/// middleware, handlers, writing responses — run on that connection's event loop.
///
/// `GATEWAY_EVENT_LOOP_AFFINITY=on` builds the gateway's server with this. The connection's task
/// prefers an ``EventLoopExecutor`` over the channel's loop, and every task it starts inherits
/// the preference; async-http-client then picks the same loop for the upstream request
/// (`EventLoopGroup.any()` returns the current loop) and the Redis client that loop's connection,
/// so a request is served by the one thread that read it, with no hand-off to the cooperative pool.
/// Nothing on the request path may block then (see ADR 0008).
struct EventLoopPinnedChannel<Base: ServerChildChannel>: ServerChildChannel {
    typealias Value = Base.Value

    let base: Base

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        base.setup(channel: channel, logger: logger)
    }

    func handle(value: Value, logger: Logger) async {
        await withTaskExecutorPreference(EventLoopExecutor(value.channel.eventLoop)) {
            await base.handle(value: value, logger: logger)
        }
    }
}

extension HTTPServerBuilder {
    /// HTTP/1 with every connection served on its own event loop (``EventLoopPinnedChannel``).
    static func http1PinnedToEventLoops(configuration: HTTP1Channel.Configuration = .init()) -> HTTPServerBuilder {
        .init { responder in
            EventLoopPinnedChannel(base: HTTP1Channel(responder: responder, configuration: configuration))
        }
    }
}
