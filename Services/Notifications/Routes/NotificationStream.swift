import Auth
import Foundation
import Logging
import OpenAPIRuntime
import PostgresNIO
import Redis
import ServiceLifecycle
import ServiceKit

/// One caller's Server-Sent Events stream: the backlog after `Last-Event-ID` (from Postgres),
/// the comment `: connected`, then live notifications, each `id:` the notification's sequence,
/// and a `: heartbeat` comment every `heartbeat` so proxies keep the connection open.
///
/// Everything sent is read from Postgres, after the last sequence sent: a message on the user's
/// Redis channel only says "there is something new", and so does every heartbeat. One user's
/// notifications commit in sequence order (``NotificationStore/insert``), so reading after the
/// last one sent misses nothing — not one committed out of order, nor one whose publish was
/// lost (it arrives with the next heartbeat at the latest).
///
/// The stream ends when the client goes away (the producing task is cancelled), when its token
/// expires or is revoked (checked once per heartbeat period), when Postgres cannot be read (the client
/// reconnects with `Last-Event-ID`), when a newer stream of the same user takes its place
/// (``StreamQuota``), or when the service shuts down gracefully, so open streams never hold up a
/// shutdown.
struct NotificationStream: Sendable {
    let userID: UUID
    /// The token the stream was opened with: the stream ends at the first check (one per
    /// heartbeat period) after it is no longer accepted — past its `exp` plus the verifier's
    /// leeway — or is revoked (logout), and the client reconnects with a current one.
    let tokenID: String
    let tokenExpiresAt: Date
    let tokenLeeway: Duration
    let revocations: (any RevocationList)?
    /// The sequence to start after: the client's `Last-Event-ID`, or else the user's newest when
    /// the request arrived (read before subscribing, so a notification committed in between is
    /// both newer than this and announced).
    let startAfter: Int64
    let subscription: RedisSubscription
    /// The stream's place in the user's ``StreamQuota``, given back when the stream ends.
    let slot: StreamQuota.Slot
    let store: NotificationStore
    let client: PostgresClient
    let heartbeat: Duration
    let logger: Logger

    /// The response body; producing starts now and stops when the body's reader stops.
    func body() -> HTTPBody {
        let (chunks, continuation) = AsyncThrowingStream.makeStream(of: ArraySlice<UInt8>.self)
        let producer = Task {
            defer { slot.release() }
            do {
                try await produce(into: continuation)
                continuation.finish()
            } catch {
                logger.debug("notification stream ended", metadata: ["error": "\(error)"])
                continuation.finish(throwing: error)
            }
        }
        continuation.onTermination = { _ in producer.cancel() }
        // A newer stream of the same user took its place. Its client is asked to wait 30 s
        // before reconnecting, so a user with one tab too many does not evict in a tight loop.
        slot.whenEvicted {
            continuation.yield(ArraySlice("retry: 30000\n\n".utf8))
            producer.cancel()
        }
        return HTTPBody(chunks, length: .unknown, iterationBehavior: .single)
    }

    private func produce(into output: AsyncThrowingStream<ArraySlice<UInt8>, any Error>.Continuation) async throws {
        // The last sequence sent (the subscription is already listening, so nothing committed
        // after `startAfter` is missed).
        var sent = startAfter
        try await sendNew(after: &sent, into: output)
        output.yield(ArraySlice(": connected\n\n".utf8))
        let (items, itemSink) = AsyncStream.makeStream(of: Item.self, bufferingPolicy: .bufferingNewest(2))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { [subscription, logger] in
                do {
                    for try await _ in subscription { itemSink.yield(.wakeUp) }
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
            try await withGracefulShutdownHandler {
                // The token is checked once per heartbeat period whatever wakes the stream: under
                // a steady flow of notifications the newest-two buffer can drop heartbeats.
                let clock = ContinuousClock()
                var nextTokenCheck = clock.now + heartbeat
                for await item in items {
                    let isHeartbeat = if case .heartbeat = item { true } else { false }
                    if isHeartbeat || clock.now >= nextTokenCheck {
                        guard await tokenStillValid() else {
                            logger.debug("notification stream ended: its token expired or was revoked")
                            return
                        }
                        nextTokenCheck = clock.now + heartbeat
                    }
                    if isHeartbeat { output.yield(ArraySlice(": heartbeat\n\n".utf8)) }
                    try await sendNew(after: &sent, into: output)
                }
            } onGracefulShutdown: {
                itemSink.finish()
            }
        }
    }

    /// Whether the stream's token still speaks for the caller: not expired, not revoked. A
    /// revocation list that cannot be read lets the stream go on, as ``Authenticator`` lets a
    /// request through.
    private func tokenStillValid() async -> Bool {
        guard Date() < tokenExpiresAt.addingTimeInterval(TimeInterval(tokenLeeway.components.seconds)) else { return false }
        guard let revocations else { return true }
        return (try? await revocations.isRevoked(tokenID: tokenID, userID: userID)) != true
    }

    /// Sends, oldest first, every notification after `sent`, and advances it.
    private func sendNew(after sent: inout Int64, into output: AsyncThrowingStream<ArraySlice<UInt8>, any Error>.Continuation) async throws {
        let page = 1_000
        while true {
            let found = try await store.list(userID: userID, afterSequence: sent, limit: page, on: client)
            for notification in found {
                output.yield(Self.event(notification.sequence, try JSONBody.encoder.encode(notification)))
                sent = notification.sequence
            }
            if found.count < page { return }
        }
    }

    /// What wakes the stream: a message on the user's channel, or the heartbeat. Only the
    /// newest ones waiting matter — either way the stream reads what is new.
    private enum Item: Sendable {
        case wakeUp
        case heartbeat
    }

    /// One SSE event.
    static func event(_ sequence: Int64, _ data: Data) -> ArraySlice<UInt8> {
        ArraySlice("id: \(sequence)\nevent: notification\ndata: \(String(decoding: data, as: UTF8.self))\n\n".utf8)
    }
}
