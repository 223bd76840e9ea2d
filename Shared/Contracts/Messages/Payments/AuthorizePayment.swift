import Foundation

/// Asks payments to debit the customer's wallet for an order.
///
/// Sent by the PlaceOrder saga (step 3); payments answers with PaymentAuthorizedReply or PaymentDeclinedReply.
public struct AuthorizePayment: MessageContract {
    public static let ceType = "orderflow.payments.authorize_payment.v1"
    public static let topic = Topic.paymentsCommands
    public static let kind = MessageKind.command
    public static let summary = "Asks payments to debit the customer's wallet for an order."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount to debit.
    public var amount: Money

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, amount: Money) {
        self.orderID = orderID
        self.customerID = customerID
        self.amount = amount
    }

    /// A sample with every optional field populated.
    public static let example = AuthorizePayment(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        amount: ExampleValues.total
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case amount
    }
}
