import Foundation
import Logging
import NIOConcurrencyHelpers

/// A message received on a subscribed channel.
public struct RedisPubSubMessage: Sendable, Equatable {
    /// The channel.
    public var channel: String
    /// The payload.
    public var payload: [UInt8]

    /// The payload as UTF-8 text.
    public var text: String { String(decoding: payload, as: UTF8.self) }
}

/// Messages of a `SUBSCRIBE`, as an `AsyncSequence`. A dedicated connection and thread read
/// them; the first element is yielded only after the server confirmed every subscription.
public struct RedisSubscription: AsyncSequence, Sendable {
    public typealias Element = RedisPubSubMessage
    private let stream: AsyncThrowingStream<RedisPubSubMessage, any Error>
    private let ready: ReadySignal

    init(configuration: RedisConfiguration, channels: [String], logger: Logger) {
        let (stream, continuation) = AsyncThrowingStream.makeStream(of: RedisPubSubMessage.self)
        let ready = ReadySignal()
        self.stream = stream
        self.ready = ready
        // The reading thread and a terminating consumer race: whoever comes second acts.
        let connectionBox = NIOLockedValueBox<(held: HeldConnection?, terminated: Bool)>((nil, false))
        continuation.onTermination = { _ in
            connectionBox.withLockedValue { box in
                box.terminated = true
                box.held?.connection.interrupt()
            }
        }
        let thread = Thread {
            do {
                let s = configuration.settings
                let connection = try RedisConnection(host: s.host, port: s.port, connectTimeout: configuration.connectTimeout, commandTimeout: .seconds(0))
                let terminated = connectionBox.withLockedValue { box -> Bool in
                    box.held = HeldConnection(connection: connection)
                    return box.terminated
                }
                if terminated { throw RedisError.closed }
                let early = try Self.subscribe(connection, channels)
                ready.signal(nil)
                for message in early { continuation.yield(message) }
                while true {
                    if let message = Self.message(from: try connection.readReply()) { continuation.yield(message) }
                }
            } catch {
                ready.signal(error)
                continuation.finish(throwing: error)
            }
        }
        thread.name = "redis-subscribe"
        thread.start()
    }

    /// Sends SUBSCRIBE and waits for one confirmation per channel; messages that arrive on an
    /// already-confirmed channel meanwhile are returned, not dropped.
    private static func subscribe(_ connection: RedisConnection, _ channels: [String]) throws(RedisError) -> [RedisPubSubMessage] {
        let replies = try connection.pipeline([RedisCommand("SUBSCRIBE", channels.map { .text($0) })])
        var confirmed = replies.filter { $0.array?.first?.text == "subscribe" }.count
        var early: [RedisPubSubMessage] = []
        while confirmed < channels.count {
            let reply = try connection.readReply()
            if reply.array?.first?.text == "subscribe" { confirmed += 1 } else if let message = message(from: reply) { early.append(message) }
        }
        return early
    }

    private static func message(from reply: RedisValue) -> RedisPubSubMessage? {
        guard let parts = reply.array, parts.count == 3, parts[0].text == "message",
              let channel = parts[1].text, case .bulk(let payload) = parts[2]
        else { return nil }
        return RedisPubSubMessage(channel: channel, payload: payload)
    }

    /// Waits until the server confirmed the subscription (so that messages published afterwards arrive).
    public func waitUntilSubscribed() async throws {
        try await ready.wait()
    }

    public func makeAsyncIterator() -> AsyncThrowingStream<RedisPubSubMessage, any Error>.AsyncIterator {
        stream.makeAsyncIterator()
    }
}

/// A one-shot signal from the subscription thread to waiting tasks.
final class ReadySignal: Sendable {
    private struct State {
        var outcome: Result<Void, any Error>?
        var waiters: [CheckedContinuation<Void, any Error>] = []
    }

    private let state = NIOLockedValueBox(State())

    func signal(_ error: (any Error)?) {
        let waiters = state.withLockedValue { state -> [CheckedContinuation<Void, any Error>] in
            guard state.outcome == nil else { return [] }
            state.outcome = error.map { .failure($0) } ?? .success(())
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters {
            if let error { waiter.resume(throwing: error) } else { waiter.resume() }
        }
    }

    func wait() async throws {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let outcome = state.withLockedValue { state -> Result<Void, any Error>? in
                if let outcome = state.outcome { return outcome }
                state.waiters.append(continuation)
                return nil
            }
            if let outcome { continuation.resume(with: outcome) }
        }
    }
}

/// The subscription's blocking connection, shared between its reading thread and a consumer that
/// stops: `@unchecked Sendable` because the consumer only calls ``RedisConnection/interrupt()``
/// (a `shutdown(2)` of the socket), which is safe while the reading thread is blocked on it.
private struct HeldConnection: @unchecked Sendable {
    let connection: RedisConnection
}
