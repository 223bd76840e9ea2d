import NIOConcurrencyHelpers
import NIOCore
import NIOPosix

/// The one Redis connection a ``RedisClient`` keeps on one event loop: opened on first use,
/// shared by every request routed to that loop (they pipeline on it), and opened again on the next
/// request after it closes.
final class RedisChannelSlot: Sendable {
    private enum State {
        case idle
        case connecting(EventLoopFuture<any Channel>)
        case connected(any Channel)
        case closed
    }

    /// The loop the connection lives on.
    let eventLoop: any EventLoop
    private let configuration: RedisConfiguration
    private let state = NIOLockedValueBox(State.idle)

    init(eventLoop: any EventLoop, configuration: RedisConfiguration) {
        self.eventLoop = eventLoop
        self.configuration = configuration
    }

    /// Sends `commands` as one pipeline and waits for their replies.
    func send(_ commands: [RedisCommand]) async throws(RedisChannelFailure) -> [RedisValue] {
        let channel = try await channel()
        let promise = channel.eventLoop.makePromise(of: [RedisValue].self)
        let handedOver = channel.eventLoop.makePromise(of: Void.self)
        handedOver.futureResult.whenFailure { error in
            // The channel closed before the request reached its handler: nothing was sent.
            promise.fail(RedisChannelFailure(error: .connectionLost("\(error)"), neverExecuted: true))
        }
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise), promise: handedOver)
        do {
            return try await promise.futureResult.get()
        } catch let failure as RedisChannelFailure {
            if failure.neverExecuted { forget(channel) }
            throw failure
        } catch {
            throw RedisChannelFailure(error: .connectionLost("\(error)"), neverExecuted: false)
        }
    }

    /// Closes the connection; later requests fail with ``RedisError/closed``.
    func close() {
        let previous = state.withLockedValue { state in
            defer { state = .closed }
            return state
        }
        switch previous {
        case .connected(let channel): channel.close(promise: nil)
        case .connecting(let future): future.whenSuccess { $0.close(promise: nil) }
        case .idle, .closed: break
        }
    }

    private func channel() async throws(RedisChannelFailure) -> any Channel {
        enum Next { case use(any Channel), await(EventLoopFuture<any Channel>), connect(EventLoopPromise<any Channel>), closed }
        let next = state.withLockedValue { state -> Next in
            switch state {
            case .connected(let channel): return .use(channel)
            case .connecting(let future): return .await(future)
            case .closed: return .closed
            case .idle:
                let promise = eventLoop.makePromise(of: (any Channel).self)
                state = .connecting(promise.futureResult)
                return .connect(promise)
            }
        }
        let future: EventLoopFuture<any Channel>
        switch next {
        case .use(let channel): return channel
        case .closed: throw RedisChannelFailure(error: .closed, neverExecuted: false)
        case .await(let connecting): future = connecting
        case .connect(let promise):
            // Outside the lock: the connect's callbacks update the state, and on the event loop
            // they may run before `connect` returns.
            connect().cascade(to: promise)
            future = promise.futureResult
        }
        do {
            return try await future.get()
        } catch let error as RedisError {
            throw RedisChannelFailure(error: error, neverExecuted: false)
        } catch {
            throw RedisChannelFailure(error: .connectFailed("\(error)"), neverExecuted: false)
        }
    }

    /// Opens the connection; the state follows it (connected, then idle again once it closes).
    /// If the slot was closed meanwhile, the new connection is closed and the connect fails with
    /// ``RedisError/closed``.
    private func connect() -> EventLoopFuture<any Channel> {
        let timeout = configuration.commandTimeout
        let settings = configuration.settings
        let state = self.state
        return ClientBootstrap(group: eventLoop)
            .connectTimeout(.milliseconds(configuration.connectTimeout.milliseconds))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelOption(.socketOption(.so_keepalive), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    let parser = try RedisReplyParser()
                    try channel.pipeline.syncOperations.addHandler(
                        RedisChannelHandler(parser: parser, commandTimeout: .milliseconds(timeout.milliseconds))
                    )
                }
            }
            .connect(host: settings.host, port: settings.port)
            .flatMapErrorThrowing { error in
                state.withLockedValue { state in
                    if case .connecting = state { state = .idle }
                }
                throw error as? RedisError ?? RedisError.connectFailed("\(error)")
            }
            .flatMapThrowing { channel in
                let installed = state.withLockedValue { state -> Bool in
                    guard case .connecting = state else { return false }
                    state = .connected(channel)
                    return true
                }
                guard installed else {
                    channel.close(promise: nil)
                    throw RedisError.closed
                }
                channel.closeFuture.whenComplete { _ in Self.forget(channel, in: state) }
                return channel
            }
    }

    /// Stops handing out `channel` (it closed or failed): the next request connects anew.
    private func forget(_ channel: any Channel) {
        Self.forget(channel, in: state)
    }

    private static func forget(_ channel: any Channel, in state: NIOLockedValueBox<State>) {
        state.withLockedValue { state in
            if case .connected(let current) = state, current === channel { state = .idle }
        }
    }
}
