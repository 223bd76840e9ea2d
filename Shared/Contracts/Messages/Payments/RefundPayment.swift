import Foundation

/// Asks payments to refund a cancelled order's payment to the customer's wallet.
///
/// Sent by the CancelOrder saga; payments answers with PaymentRefundedReply, or with
/// PaymentRefundRefusedReply when there is no authorized payment to refund.
public struct RefundPayment: MessageContract {
    public static let ceType = "orderflow.payments.refund_payment.v1"
    public static let topic = Topic.paymentsCommands
    public static let kind = MessageKind.command
    public static let summary = "Asks payments to refund a cancelled order's payment to the customer's wallet."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The payment to refund, when the saga knows it; otherwise payments finds the order's payment.
    public var paymentID: UUID?

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, paymentID: UUID? = nil) {
        self.orderID = orderID
        self.customerID = customerID
        self.paymentID = paymentID
    }

    /// A sample with every optional field populated.
    public static let example = RefundPayment(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        paymentID: ExampleValues.paymentID
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case paymentID = "payment_id"
    }
}
