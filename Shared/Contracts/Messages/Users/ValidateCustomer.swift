import Foundation

/// Asks users whether the customer exists and may place orders.
///
/// Sent by the PlaceOrder saga (step 2); users answers with CustomerValidatedReply or CustomerRejectedReply.
public struct ValidateCustomer: MessageContract {
    public static let ceType = "orderflow.users.validate_customer.v1"
    public static let topic = Topic.usersCommands
    public static let kind = MessageKind.command
    public static let summary = "Asks users whether the customer exists and may place orders."

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
    public static let example = ValidateCustomer(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
    }
}
