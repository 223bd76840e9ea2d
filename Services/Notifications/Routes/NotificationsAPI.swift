import Auth
import Foundation
import Logging
import OpenAPIRuntime
import PostgresNIO
import Redis
import ServiceKit

/// The notifications HTTP API — the caller's list, marking read, and the live stream — as the
/// implementation of the `APIProtocol` generated from the `notifications` tag of the contract
/// (`openapi-generator-config.yaml`).
struct NotificationsAPI: APIProtocol {
    let client: PostgresClient
    let store: NotificationStore
    let redis: RedisClient
    /// Checked by open streams at each heartbeat (a logout ends them).
    let revocations: (any RevocationList)?
    /// How long past its `exp` the verifier accepts a token: an open stream lasts as long.
    let tokenLeeway: Duration
    let heartbeat: Duration
    /// Caps the streams each user may hold open.
    let streams: StreamQuota
    let logger: Logger

    /// Who may call each operation (``OperationAccess``): every one needs a token.
    static let access: [String: OperationAccess] = [
        Operations.listNotifications.id: .authenticated, Operations.markNotificationRead.id: .authenticated,
        Operations.streamNotifications.id: .authenticated,
    ]

    /// The checks the generated code cannot express (see ``RequestPrecheck``).
    static let prechecks: [String: [RequestPrecheck]] = [Operations.listNotifications.id: [.page]]

    func listNotifications(_ input: Operations.listNotifications.Input) async throws -> Operations.listNotifications.Output {
        let identity = try Identity.caller()
        let page = try PageRequest.parse(limit: input.query.limit, cursor: input.query.cursor)
        let before = try page.position { Int64($0) }
        let rows = try await store.list(userID: identity.userID, beforeSequence: before, limit: page.limit + 1, on: client)
        let listed = Page(rows: rows, request: page) { String($0.sequence) }
        let body = Components.Schemas.NotificationPage(
            data: try listed.data.map(Components.Schemas.Notification.init), next_cursor: listed.nextCursor, has_more: listed.hasMore)
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(body)))
    }

    func markNotificationRead(_ input: Operations.markNotificationRead.Input) async throws -> Operations.markNotificationRead.Output {
        let identity = try Identity.caller()
        let id = try UUID.pathParameter(input.path.id, name: "id")
        guard try await store.markRead(id, userID: identity.userID, on: client) else {
            throw ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such notification.")
        }
        return .noContent(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID)))
    }

    /// Server-Sent Events: first what the client missed since `Last-Event-ID` (from Postgres),
    /// then live notifications (from Redis pub/sub, so any instance's commits reach any
    /// instance's streams); see ``NotificationStream``.
    func streamNotifications(_ input: Operations.streamNotifications.Input) async throws -> Operations.streamNotifications.Output {
        let identity = try Identity.caller()
        let lastSeen = input.headers.Last_hyphen_Event_hyphen_ID.flatMap { Int64($0) } ?? input.query.last_event_id.flatMap { Int64($0) }
        // Without Last-Event-ID the stream starts after the newest notification, read before
        // subscribing: one committed after this read is then announced too, so none is missed.
        let startAfter = if let lastSeen { lastSeen } else { try await store.lastSequence(userID: identity.userID, on: client) }
        let slot = streams.take(for: identity.userID)  // may end this user's oldest stream
        // Subscribe before reading the backlog, so nothing committed in between is missed.
        let subscription = redis.subscribe([NotificationFanOut.channel(for: identity.userID)])
        try await subscription.waitUntilSubscribed()
        let stream = NotificationStream(
            userID: identity.userID, tokenID: identity.tokenID, tokenExpiresAt: identity.expiresAt, tokenLeeway: tokenLeeway, revocations: revocations,
            startAfter: startAfter, subscription: subscription, slot: slot,
            store: store, client: client, heartbeat: heartbeat, logger: logger)
        let headers = Operations.streamNotifications.Output.Ok.Headers(
            X_hyphen_Request_hyphen_ID: CurrentRequest.requestID, Cache_hyphen_Control: "no-cache", X_hyphen_Accel_hyphen_Buffering: "no")
        return .ok(.init(headers: headers, body: .text_event_hyphen_stream(stream.body())))
    }
}
