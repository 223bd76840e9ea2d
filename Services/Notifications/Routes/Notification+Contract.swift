import Foundation
import ServiceKit

extension Components.Schemas.Notification {
    /// The contract's form of a stored notification.
    init(_ notification: Notification) throws {
        guard let kind = kindPayload(rawValue: notification.kind) else { throw UnknownKind(kind: notification.kind) }
        var extra = notification.payload
        let orderID = extra.removeValue(forKey: "order_id")
        let reason = extra.removeValue(forKey: "reason")
        self.init(
            id: notification.id, seq: notification.sequence, kind: kind, message: notification.message,
            payload: .init(order_id: orderID, reason: reason, additionalProperties: extra),
            created_at: notification.createdAt, read_at: notification.readAt)
    }

    /// A stored notification whose kind the contract does not list (a 500: the store and the
    /// contract disagree).
    struct UnknownKind: Error {
        let kind: String
    }
}
