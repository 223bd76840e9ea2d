import Foundation

/// The payment of a cancelled order was refunded to the customer's wallet.
///
/// Published by payments when it refunds a payment.
public struct PaymentRefunded: MessageContract {
    public static let ceType = "orderflow.payments.payment_refunded.v1"
    public static let topic = Topic.paymentsEvents
    public static let kind = MessageKind.event
    public static let summary = "The payment of a cancelled order was refunded to the customer's wallet."

    /// The payment.
    public var paymentID: UUID
    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount refunded.
    public var amount: Money
    /// When the wallet was credited.
    public var refundedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(paymentID: UUID, orderID: UUID, customerID: UUID, amount: Money, refundedAt: Date) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.customerID = customerID
        self.amount = amount
        self.refundedAt = refundedAt
    }

    /// A sample with every optional field populated.
    public static let example = PaymentRefunded(
        paymentID: ExampleValues.paymentID,
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        amount: ExampleValues.total,
        refundedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id"
        case orderID = "order_id"
        case customerID = "customer_id"
        case amount
        case refundedAt = "refunded_at"
    }
}
