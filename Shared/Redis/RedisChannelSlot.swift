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
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise), promise: nil)
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
        enum Next { case use(any Channel), await(EventLoopFuture<any Channel>), closed }
        let next = state.withLockedValue { state -> Next in
            switch state {
            case .connected(let channel): return .use(channel)
            case .connecting(let future): return .await(future)
            case .closed: return .closed
            case .idle:
                let future = connect()
                state = .connecting(future)
                return .await(future)
            }
        }
        switch next {
        case .use(let channel): return channel
        case .closed: throw RedisChannelFailure(error: .closed, neverExecuted: false)
        case .await(let future):
            do {
                return try await future.get()
            } catch let error as RedisError {
                throw RedisChannelFailure(error: error, neverExecuted: false)
            } catch {
                throw RedisChannelFailure(error: .connectFailed("\(error)"), neverExecuted: false)
            }
        }
    }

    /// Opens the connection; the state follows it (connected, then idle again once it closes).
    private func connect() -> EventLoopFuture<any Channel> {
        let timeout = configuration.commandTimeout
        let settings = configuration.settings
        let connecting = ClientBootstrap(group: eventLoop)
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
        return connecting.flatMapErrorThrowing { error in
            throw error as? RedisError ?? RedisError.connectFailed("\(error)")
        }.always { [state] result in
            let closedMeanwhile = state.withLockedValue { state -> Bool in
                guard case .connecting = state else { return true }
                switch result {
                case .success(let channel): state = .connected(channel)
                case .failure: state = .idle
                }
                return false
            }
            if closedMeanwhile, case .success(let channel) = result { channel.close(promise: nil) }
        }.map { [state] channel in
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
