import Contracts
import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// The `notifications` table.
struct NotificationStore: Sendable {
    let logger: Logger

    /// Stores a notification for `userID` caused by `event`; nil when that event was turned
    /// into a notification already.
    ///
    /// One user's notifications commit in the order of their `seq`: the insert first takes a
    /// transaction lock on the user, so a second one draws its `seq` only after the first has
    /// committed. A stream that has sent `seq` n may then read "after n" and miss nothing; without
    /// the lock two events of one user handled side by side (an order rejected, its payment
    /// declined) could commit 11 before 10, and a stream that had sent 11 would skip 10.
    func insert(userID: UUID, kind: String, message: String, payload: [String: String], sourceEventID: UUID,
                on connection: PostgresConnection) async throws -> Notification? {
        let json = String(decoding: try JSONEncoder().encode(payload), as: UTF8.self)
        try await TransactionLock.take("orderflow.notifications.user", key: userID.uuidString.lowercased(), on: connection, logger: logger)
        let rows = try await connection.query("""
            INSERT INTO notifications.notifications (id, user_id, kind, payload, message, source_event_id)
            VALUES (\(UUID.v7()), \(userID), \(kind), \(json)::jsonb, \(message), \(sourceEventID))
            ON CONFLICT (source_event_id) DO NOTHING
            RETURNING id, seq, payload::text, created_at
            """, logger: logger)
        for try await (id, seq, stored, created) in rows.decode((UUID, Int64, String, Date).self) {
            return Notification(id: id.uuidString.lowercased(), sequence: seq, kind: kind, message: message,
                                payload: (try? JSONDecoder().decode([String: String].self, from: Data(stored.utf8))) ?? [:], createdAt: created, readAt: nil)
        }
        return nil
    }

    /// The sequence of the user's newest notification (0 when there is none).
    func lastSequence(userID: UUID, on client: PostgresClient) async throws -> Int64 {
        for try await (seq,) in try await client.query("""
            SELECT coalesce(max(seq), 0) FROM notifications.notifications WHERE user_id = \(userID)
            """, logger: logger).decode((Int64,).self) {
            return seq
        }
        return 0
    }

    /// The user's notifications, newest first, before `beforeSequence`; or, with
    /// `afterSequence`, oldest first after it (a stream resuming).
    func list(userID: UUID, beforeSequence: Int64? = nil, afterSequence: Int64? = nil, limit: Int, on client: PostgresClient) async throws -> [Notification] {
        let rows = try await client.query("""
            SELECT id, seq, kind, message, payload::text, created_at, read_at FROM notifications.notifications
            WHERE user_id = \(userID) AND (\(beforeSequence)::bigint IS NULL OR seq < \(beforeSequence))
              AND (\(afterSequence)::bigint IS NULL OR seq > \(afterSequence))
            ORDER BY CASE WHEN \(afterSequence)::bigint IS NULL THEN -seq ELSE seq END LIMIT \(limit)
            """, logger: logger)
        var found: [Notification] = []
        for try await (id, seq, kind, message, payload, created, read) in rows.decode((UUID, Int64, String, String, String, Date, Date?).self) {
            found.append(Notification(id: id.uuidString.lowercased(), sequence: seq, kind: kind, message: message,
                                      payload: (try? JSONDecoder().decode([String: String].self, from: Data(payload.utf8))) ?? [:],
                                      createdAt: created, readAt: read))
        }
        return found
    }

    /// Marks the user's notification read; false when the user has no such notification.
    func markRead(_ id: UUID, userID: UUID, on client: PostgresClient) async throws -> Bool {
        let rows = try await client.query("""
            UPDATE notifications.notifications SET read_at = coalesce(read_at, now()) WHERE id = \(id) AND user_id = \(userID) RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }
}
