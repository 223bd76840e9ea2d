import Foundation

/// Payments refunded the order's payment to the customer's wallet.
///
/// The reply to RefundPayment.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct PaymentRefundedReply: MessageContract {
    public static let ceType = "orderflow.payments.reply.payment_refunded.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Payments refunded the order's payment to the customer's wallet."

    /// The order.
    public var orderID: UUID
    /// The payment.
    public var paymentID: UUID
    /// The amount refunded.
    public var amount: Money

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, paymentID: UUID, amount: Money) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.amount = amount
    }

    /// A sample with every optional field populated.
    public static let example = PaymentRefundedReply(
        orderID: ExampleValues.orderID,
        paymentID: ExampleValues.paymentID,
        amount: ExampleValues.total
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case paymentID = "payment_id"
        case amount
    }
}
