import Foundation
import Logging
import OpenAPIRuntime
import PostgresNIO
import Redis
import ServiceLifecycle
import ServiceKit

/// One caller's Server-Sent Events stream: the backlog after `Last-Event-ID` (from Postgres),
/// the comment `: connected`, then live notifications (from the Redis subscription), each
/// `id:` the notification's sequence, and a `: heartbeat` comment every `heartbeat` so proxies
/// keep the connection open.
///
/// The stream ends when the client goes away (the producing task is cancelled) or the service
/// shuts down gracefully (clients reconnect with `Last-Event-ID`), so open streams never hold
/// up a shutdown.
struct NotificationStream: Sendable {
    let userID: UUID
    let lastSeen: Int64?
    let subscription: RedisSubscription
    let store: NotificationStore
    let client: PostgresClient
    let heartbeat: Duration
    let logger: Logger

    /// The response body; producing starts now and stops when the body's reader stops.
    func body() -> HTTPBody {
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: ArraySlice<UInt8>.self)
        let producer = Task {
            do {
                try await produce(into: continuation)
                continuation.finish()
            } catch {
                logger.debug("notification stream ended", metadata: ["error": "\(error)"])
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        return HTTPBody(chunks, length: .unknown, iterationBehavior: .single)
    }

    private func produce(into output: AsyncThrowingStream<ArraySlice<UInt8>, any Error>.Continuation) async throws {
        // `sent` is the last sequence written; Int64.max means no backlog was asked for.
        var sent = Int64.max
        if let lastSeen {
            sent = lastSeen
            for notification in try await store.list(userID: userID, afterSequence: lastSeen, limit: 1_000, on: client) {
                output.yield(Self.event(notification.sequence, try JSONBody.encoder.encode(notification)))
                sent = notification.sequence
            }
        }
        output.yield(ArraySlice(": connected\n\n".utf8))
        let (items, itemSink) = AsyncStream.makeStream(of: Item.self)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [subscription, logger] in
                do {
                    for try await message in subscription { itemSink.yield(.message(message.payload)) }
                } catch {
                    logger.debug("notification subscription ended", metadata: ["error": "\(error)"])
                }
                itemSink.finish()
            }
            group.addTask { [heartbeat] in
                while !Task.isCancelled {
                    try await Task.sleep(for: heartbeat)
                    itemSink.yield(.heartbeat)
                }
            }
            defer { group.cancelAll() }
            await withGracefulShutdownHandler {
                for await item in items {
                    switch item {
                    case .heartbeat:
                        output.yield(ArraySlice(": heartbeat\n\n".utf8))
                    case .message(let payload):
                        guard let sequence = try? JSONDecoder().decode(Sequenced.self, from: Data(payload)).seq else { continue }
                        if sent != Int64.max, sequence <= sent { continue }  // already sent from the backlog
                        output.yield(Self.event(sequence, Data(payload)))
                        sent = sequence
                    }
                }
            } onGracefulShutdown: {
                itemSink.finish()
            }
        }
    }

    private enum Item: Sendable {
        case heartbeat
        case message([UInt8])
    }

    /// The part of a fanned-out notification the stream needs to order it.
    private struct Sequenced: Decodable {
        let seq: Int64
    }

    /// One SSE event.
    static func event(_ sequence: Int64, _ data: Data) -> ArraySlice<UInt8> {
        ArraySlice("id: \(sequence)\nevent: notification\ndata: \(String(decoding: data, as: UTF8.self))\n\n".utf8)
    }
}
