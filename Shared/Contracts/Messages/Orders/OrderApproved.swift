import Foundation

/// The PlaceOrder saga succeeded: stock is reserved and the payment authorized.
///
/// Published by orders when the PlaceOrder saga completes.
public struct OrderApproved: MessageContract {
    public static let ceType = "orderflow.orders.order_approved.v1"
    public static let topic = Topic.ordersEvents
    public static let kind = MessageKind.event
    public static let summary = "The PlaceOrder saga succeeded: stock is reserved and the payment authorized."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount charged.
    public var total: Money
    /// When the order was approved.
    public var approvedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, total: Money, approvedAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.total = total
        self.approvedAt = approvedAt
    }

    /// A sample with every optional field populated.
    public static let example = OrderApproved(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        total: ExampleValues.total,
        approvedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case total
        case approvedAt = "approved_at"
    }
}
