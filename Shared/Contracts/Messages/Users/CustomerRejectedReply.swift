import Foundation

/// Users refuses the customer: unknown or suspended.
///
/// The failure reply to ValidateCustomer.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct CustomerRejectedReply: MessageContract {
    public static let ceType = "orderflow.users.reply.customer_rejected.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Users refuses the customer: unknown or suspended."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// Why the customer was refused.
    public var reason: CustomerRejectionReason

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, reason: CustomerRejectionReason) {
        self.orderID = orderID
        self.customerID = customerID
        self.reason = reason
    }

    /// A sample with every optional field populated.
    public static let example = CustomerRejectedReply(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        reason: .suspended
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case reason
    }
}
