import Foundation

/// The PlaceOrder saga failed and was compensated; the order is rejected.
///
/// Published by orders when the PlaceOrder saga ends in failure.
public struct OrderRejected: MessageContract {
    public static let ceType = "orderflow.orders.order_rejected.v1"
    public static let topic = Topic.ordersEvents
    public static let kind = MessageKind.event
    public static let summary = "The PlaceOrder saga failed and was compensated; the order is rejected."

    /// The order.
    public var orderID: UUID
    /// The ordering customer (a user id).
    public var customerID: UUID
    /// Why the order was rejected.
    public var reason: OrderRejectionReason
    /// Human detail for the customer or operator.
    public var detail: String?
    /// When the order was rejected.
    public var rejectedAt: Date

    /// The Kafka key and `ce_subject`: ``orderID``.
    public var aggregateID: UUID { orderID }

    /// A message with every field.
    public init(
        orderID: UUID,
        customerID: UUID,
        reason: OrderRejectionReason,
        detail: String? = nil,
        rejectedAt: Date
    ) {
        self.orderID = orderID
        self.customerID = customerID
        self.reason = reason
        self.detail = detail
        self.rejectedAt = rejectedAt
    }

    /// A sample with every optional field populated.
    public static let example = OrderRejected(
        orderID: ExampleValues.orderID,
        customerID: ExampleValues.customerID,
        reason: .insufficientFunds,
        detail: "wallet balance 10.00 EUR is less than the order total 49.98 EUR",
        rejectedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id"
        case customerID = "customer_id"
        case reason
        case detail
        case rejectedAt = "rejected_at"
    }
}
