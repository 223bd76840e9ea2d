import Foundation

/// An authorized payment was voided as a saga compensation and the wallet credited back.
///
/// Published by payments when it voids an authorization.
public struct PaymentVoided: MessageContract {
    public static let ceType = "orderflow.payments.payment_voided.v1"
    public static let topic = Topic.paymentsEvents
    public static let kind = MessageKind.event
    public static let summary = "An authorized payment was voided as a saga compensation and the wallet credited back."

    /// The payment.
    public var paymentID: UUID
    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount credited back.
    public var amount: Money
    /// When the wallet was credited back.
    public var voidedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(paymentID: UUID, orderID: UUID, customerID: UUID, amount: Money, voidedAt: Date) {
        self.paymentID = paymentID
        self.orderID = orderID
        self.customerID = customerID
        self.amount = amount
        self.voidedAt = voidedAt
    }

    /// A sample with every optional field populated.
    public static let example = PaymentVoided(
        paymentID: ExampleValues.paymentID,
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        amount: ExampleValues.total,
        voidedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case paymentID = "payment_id"
        case orderID = "order_id"
        case customerID = "customer_id"
        case amount
        case voidedAt = "voided_at"
    }
}
