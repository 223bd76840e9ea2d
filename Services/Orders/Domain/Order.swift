import Contracts
import Foundation

/// An order's lifecycle states.
enum OrderStatus: String, Sendable, Codable, CaseIterable {
    case pending, approved, rejected, cancelling, cancelled
}

/// An order as stored and shown.
struct Order: Sendable, Encodable {
    let id: String
    let customerID: String
    let status: OrderStatus
    let total: Money
    let items: [Item]
    let rejectionReason: String?
    let rejectionDetail: String?
    let createdAt: Date
    let updatedAt: Date

    struct Item: Sendable, Encodable {
        let productID: String
        let quantity: Int
        let unitPrice: Money

        enum CodingKeys: String, CodingKey {
            case productID = "product_id", quantity, unitPrice = "unit_price"
        }
    }

    enum CodingKeys: String, CodingKey {
        case id, status, total, items
        case customerID = "customer_id"
        case rejectionReason = "rejection_reason"
        case rejectionDetail = "rejection_detail"
        case createdAt = "created_at"
        case updatedAt = "updated_at"
    }
}

/// The body of `POST /api/v1/orders` (encodable for its idempotency fingerprint).
struct PlaceOrderRequest: Codable, Sendable {
    let items: [Line]

    struct Line: Codable, Sendable {
        let productID: UUID
        let quantity: Int

        enum CodingKeys: String, CodingKey {
            case productID = "product_id", quantity
        }
    }
}
