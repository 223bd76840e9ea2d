import Foundation

/// A customer placed an order, which is now pending while the PlaceOrder saga runs.
///
/// Published by orders when an order is accepted (pending).
public struct OrderCreated: MessageContract {
    public static let ceType = "orderflow.orders.order_created.v1"
    public static let topic = Topic.ordersEvents
    public static let kind = MessageKind.event
    public static let summary = "A customer placed an order, which is now pending while the PlaceOrder saga runs."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The ordered lines.
    public var items: [OrderLine]
    /// The sum of all lines.
    public var total: Money
    /// When the order was accepted.
    public var createdAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, items: [OrderLine], total: Money, createdAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.items = items
        self.total = total
        self.createdAt = createdAt
    }

    /// A sample with every optional field populated.
    public static let example = OrderCreated(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        items: [OrderLine.example],
        total: ExampleValues.total,
        createdAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case items
        case total
        case createdAt = "created_at"
    }
}
