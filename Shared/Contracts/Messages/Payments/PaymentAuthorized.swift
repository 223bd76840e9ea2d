import Foundation

/// A payment for an order was authorized and the customer's wallet debited.
///
/// Published by payments when it authorizes a payment.
public struct PaymentAuthorized: MessageContract {
    public static let ceType = "orderflow.payments.payment_authorized.v1"
    public static let topic = Topic.paymentsEvents
    public static let kind = MessageKind.event
    public static let summary = "A payment for an order was authorized and the customer's wallet debited."

    /// The payment.
    public var paymentID: UUID
    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount debited.
    public var amount: Money
    /// When the wallet was debited.
    public var authorizedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(paymentID: UUID, orderID: UUID, customerID: UUID, amount: Money, authorizedAt: Date) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.customerID = customerID
        self.amount = amount
        self.authorizedAt = authorizedAt
    }

    /// A sample with every optional field populated.
    public static let example = PaymentAuthorized(
        paymentID: ExampleValues.paymentID,
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        amount: ExampleValues.total,
        authorizedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id"
        case orderID = "order_id"
        case customerID = "customer_id"
        case amount
        case authorizedAt = "authorized_at"
    }
}
