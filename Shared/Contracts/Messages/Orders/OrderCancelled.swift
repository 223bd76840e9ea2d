import Foundation

/// An approved order was cancelled: its payment refunded and its stock released.
///
/// Published by orders when the CancelOrder saga completes.
public struct OrderCancelled: MessageContract {
    public static let ceType = "orderflow.orders.order_cancelled.v1"
    public static let topic = Topic.ordersEvents
    public static let kind = MessageKind.event
    public static let summary = "An approved order was cancelled: its payment refunded and its stock released."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// The amount refunded to the customer.
    public var refunded: Money
    /// When the cancellation completed.
    public var cancelledAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(orderID: UUID, customerID: UUID, refunded: Money, cancelledAt: Date) {
        self.orderID = orderID
        self.customerID = customerID
        self.refunded = refunded
        self.cancelledAt = cancelledAt
    }

    /// A sample with every optional field populated.
    public static let example = OrderCancelled(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        refunded: ExampleValues.total,
        cancelledAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case refunded
        case cancelledAt = "cancelled_at"
    }
}
