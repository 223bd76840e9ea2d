import Auth
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import PostgresNIO
import Redis
import ServiceLifecycle
import ServiceKit

/// The notifications HTTP API: the caller's list, marking read, and the live stream.
struct NotificationsAPI: Sendable {
    let client: PostgresClient
    let store: NotificationStore
    let redis: RedisClient
    let authenticator: Authenticator
    let heartbeat: Duration
    let logger: Logger

    func addRoutes(to router: Router<AppRequestContext>) {
        let api = router.group("api/v1")
        api.get("notifications") { request, _ in try await list(request) }
        api.get("notifications/stream") { request, _ in try await stream(request) }
        api.post("notifications/:id/read") { request, context in
            let identity = try await authenticator.identity(of: request)
            guard try await store.markRead(try context.uuidParameter("id"), userID: identity.userID, on: client) else {
                throw ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such notification.")
            }
            return Response(status: .noContent)
        }
    }

    private func list(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let page = try PageRequest.parse(request)
        let before = try page.position { Int64($0) }
        let rows = try await store.list(userID: identity.userID, beforeSequence: before, limit: page.limit + 1, on: client)
        return try JSONBody.response(Page(rows: rows, request: page) { String($0.sequence) })
    }

    /// Server-Sent Events: first what the client missed since `Last-Event-ID` (from Postgres),
    /// then live notifications (from Redis pub/sub, so any instance's commits reach any
    /// instance's streams), each `id:` the notification's sequence; a comment line every
    /// heartbeat keeps proxies from closing the connection.
    private func stream(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let lastSeen = request.headers[.lastEventID].flatMap { Int64($0) }
            ?? request.uri.queryParameters.get("last_event_id").flatMap { Int64(String($0)) }
        // Subscribe before reading the backlog, so nothing committed in between is missed.
        let subscription = redis.subscribe([NotificationFanOut.channel(for: identity.userID)])
        try await subscription.waitUntilSubscribed()
        let store = self.store, client = self.client, heartbeat = self.heartbeat, logger = self.logger
        let headers: HTTPFields = [.contentType: "text/event-stream", .cacheControl: "no-cache", .accelBuffering: "no"]
        return Response(status: .ok, headers: headers, body: ResponseBody { writer in
            var sent = lastSeen ?? Int64.max
            if let lastSeen {
                sent = lastSeen
                for notification in try await store.list(userID: identity.userID, afterSequence: lastSeen, limit: 1_000, on: client) {
                    try await writer.write(Self.event(notification.sequence, try JSONBody.encoder.encode(notification)))
                    sent = notification.sequence
                }
            }
            try await writer.write(ByteBuffer(string: ": connected\n\n"))
            let (events, continuation) = AsyncStream.makeStream(of: StreamItem.self)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await message in subscription { continuation.yield(.message(message.payload)) }
                    } catch {
                        logger.debug("notification subscription ended", metadata: ["error": "\(error)"])
                    }
                    continuation.finish()
                }
                group.addTask {
                    while !Task.isCancelled {
                        try await Task.sleep(for: heartbeat)
                        continuation.yield(.heartbeat)
                    }
                }
                defer { group.cancelAll() }
                // On SIGTERM the stream ends (clients reconnect with Last-Event-ID), so that
                // open streams never hold up a graceful shutdown.
                try await withGracefulShutdownHandler {
                  for await item in events {
                    switch item {
                    case .heartbeat:
                        try await writer.write(ByteBuffer(string: ": heartbeat\n\n"))
                    case .message(let payload):
                        guard let sequence = try? JSONDecoder().decode(Sequenced.self, from: Data(payload)).seq else { continue }
                        if sent != Int64.max, sequence <= sent { continue }  // already sent from the backlog
                        try await writer.write(Self.event(sequence, Data(payload)))
                        sent = sequence
                    }
                  }
                } onGracefulShutdown: {
                    continuation.finish()
                }
            }
            try await writer.finish(nil)
        })
    }

    private enum StreamItem: Sendable {
        case heartbeat
        case message([UInt8])
    }

    private struct Sequenced: Decodable {
        let seq: Int64
    }

    static func event(_ sequence: Int64, _ data: Data) -> ByteBuffer {
        ByteBuffer(string: "id: \(sequence)\nevent: notification\ndata: \(String(decoding: data, as: UTF8.self))\n\n")
    }
}
