import Contracts
import Foundation
import Outbox

/// Turns events into notifications (one per event, however often it is delivered) and, once
/// committed, announces each on the user's Redis channel for the live streams.
struct NotificationHandlers: Sendable {
    let store: NotificationStore
    let fanOut: NotificationFanOut

    func register(in handlers: inout MessageHandlers) {
        handlers.on(UserRegistered.self) { event, context in
            try await notify(event.userID, "welcome", "Welcome, \(event.displayName)! Your wallet is being opened.", [:], context)
        }
        handlers.on(OrderApproved.self) { event, context in
            try await notify(event.customerID, "order_approved", "Order approved: \(Self.format(event.total)) charged.",
                             ["order_id": event.orderID.uuidString.lowercased()], context)
        }
        handlers.on(OrderRejected.self) { event, context in
            try await notify(event.customerID, "order_rejected", "Order rejected (\(event.reason.rawValue.replacingOccurrences(of: "_", with: " "))).",
                             ["order_id": event.orderID.uuidString.lowercased(), "reason": event.reason.rawValue], context)
        }
        handlers.on(OrderCancelled.self) { event, context in
            try await notify(event.customerID, "order_cancelled", "Order cancelled: \(Self.format(event.refunded)) refunded.",
                             ["order_id": event.orderID.uuidString.lowercased()], context)
        }
        handlers.on(PaymentDeclined.self) { event, context in
            try await notify(event.customerID, "payment_declined", "Payment of \(Self.format(event.amount)) declined (\(event.reason.rawValue.replacingOccurrences(of: "_", with: " "))).",
                             ["order_id": event.orderID.uuidString.lowercased(), "reason": event.reason.rawValue], context)
        }
    }

    private func notify(_ userID: UUID, _ kind: String, _ message: String, _ payload: [String: String], _ context: HandlerContext) async throws {
        guard let notification = try await store.insert(
            userID: userID, kind: kind, message: message, payload: payload, sourceEventID: context.event.id, on: context.connection
        ) else { return }
        let fanOut = self.fanOut
        context.afterCommit { await fanOut.publish(notification, to: userID) }
    }

    static func format(_ money: Money) -> String {
        let sign = money.amountMinor < 0 ? "-" : ""
        let value = abs(money.amountMinor)
        return "\(sign)\(value / 100).\(String(format: "%02lld", value % 100)) \(money.currency)"
    }
}
