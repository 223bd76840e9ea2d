import Foundation

/// One line of an order: a product, how many, and the price of one.
public struct OrderLine: Codable, Sendable, Hashable {
    /// The ordered product.
    public var productID: UUID
    /// How many units; at least 1.
    public var quantity: Int
    /// The price of one unit when the order was placed.
    public var unitPrice: Money

    /// A line of `quantity` units of a product at `unitPrice` each.
    public init(productID: UUID, quantity: Int, unitPrice: Money) {
        self.productID = productID
        self.quantity = quantity
        self.unitPrice = unitPrice
    }

    /// Two units at 24.99 EUR.
    public static let example = OrderLine(
        productID: ExampleValues.productID,
        quantity: 2,
        unitPrice: Money(amountMinor: 2_499, currency: "EUR")
    )

    enum CodingKeys: String, CodingKey {
        case productID = "product_id"
        case quantity
        case unitPrice = "unit_price"
    }
}
