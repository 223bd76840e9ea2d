import Foundation

/// Payments declined the order's payment; the wallet is unchanged.
///
/// The failure reply to AuthorizePayment.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct PaymentDeclinedReply: MessageContract {
    public static let ceType = "orderflow.payments.reply.payment_declined.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Payments declined the order's payment; the wallet is unchanged."

    /// The order.
    public var orderID: UUID
    /// Why the payment was declined.
    public var reason: PaymentDeclineReason
    /// Human detail for the saga timeline.
    public var detail: String?

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, reason: PaymentDeclineReason, detail: String? = nil) {
        self.orderID = orderID
        self.reason = reason
        self.detail = detail
    }

    /// A sample with every optional field populated.
    public static let example = PaymentDeclinedReply(
        orderID: ExampleValues.orderID,
        reason: .insufficientFunds,
        detail: "wallet balance 1000 is less than the amount 4998"
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case reason
        case detail
    }
}
