import Foundation

/// Payments voided the order's authorization (or found none to void).
///
/// The reply to VoidPayment.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct PaymentVoidedReply: MessageContract {
    public static let ceType = "orderflow.payments.reply.payment_voided.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Payments voided the order's authorization (or found none to void)."

    /// The order.
    public var orderID: UUID
    /// The voided payment; absent when there was no authorization to void.
    public var paymentID: UUID?
    /// The amount credited back (zero when nothing was voided).
    public var amount: Money

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, paymentID: UUID? = nil, amount: Money) {
        self.orderID = orderID
        self.paymentID = paymentID
        self.amount = amount
    }

    /// A sample with every optional field populated.
    public static let example = PaymentVoidedReply(
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
