import Foundation

/// Payments refused to refund the order: there is no authorized payment to refund (it was
/// declined, voided or never made). Nothing moved.
///
/// The failure reply to RefundPayment. Only damaged data leads here (an approved order always
/// has an authorized payment); the CancelOrder saga then ends compensated, the order approved,
/// instead of re-sending the refund for ever.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct PaymentRefundRefusedReply: MessageContract {
    public static let ceType = "orderflow.payments.reply.payment_refund_refused.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Payments refused to refund the order: there is no authorized payment to refund. Nothing moved."

    /// The order.
    public var orderID: UUID
    /// Why, for the saga timeline, such as `payment is voided; cannot refund it`.
    public var reason: String

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, reason: String) {
        self.orderID = orderID
        self.reason = reason
    }

    /// A sample with every optional field populated.
    public static let example = PaymentRefundRefusedReply(orderID: ExampleValues.orderID, reason: "payment is voided; cannot refund it")

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case reason
    }
}
