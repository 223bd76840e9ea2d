import Foundation

/// A payment for an order was declined; the wallet is unchanged.
///
/// Published by payments when it declines a payment.
public struct PaymentDeclined: MessageContract {
    public static let ceType = "orderflow.payments.payment_declined.v1"
    public static let topic = Topic.paymentsEvents
    public static let kind = MessageKind.event
    public static let summary = "A payment for an order was declined; the wallet is unchanged."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount that was requested.
    public var amount: Money
    /// Why the payment was declined.
    public var reason: PaymentDeclineReason
    /// When the payment was declined.
    public var declinedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(
        orderID: UUID,
        customerID: UUID,
        amount: Money,
        reason: PaymentDeclineReason,
        declinedAt: Date
    ) {
        self.orderID = orderID
        self.customerID = customerID
        self.amount = amount
        self.reason = reason
        self.declinedAt = declinedAt
    }

    /// A sample with every optional field populated.
    public static let example = PaymentDeclined(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        amount: ExampleValues.total,
        reason: .insufficientFunds,
        declinedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case amount
        case reason
        case declinedAt = "declined_at"
    }
}
