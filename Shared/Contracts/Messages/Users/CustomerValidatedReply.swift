import Foundation

/// Users confirms that the customer exists and is active.
///
/// The success reply to ValidateCustomer.
/// The envelope's `correlation_id` is the saga id and `causation_id` the command's id.
public struct CustomerValidatedReply: MessageContract {
    public static let ceType = "orderflow.users.reply.customer_validated.v1"
    public static let topic = Topic.sagaReplies
    public static let kind = MessageKind.reply
    public static let summary = "Users confirms that the customer exists and is active."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID) {
        self.orderID = orderID
        self.customerID = customerID
    }

    /// A sample with every optional field populated.
    public static let example = CustomerValidatedReply(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
    }
}
