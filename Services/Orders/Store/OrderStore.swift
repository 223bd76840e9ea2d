import Contracts
import Foundation
import Logging
import PostgresNIO
import ServiceKit

/// The `orders` and `order_lines` tables.
struct OrderStore: Sendable {
    let logger: Logger

    /// A product's price, for pricing a new order.
    struct Price: Sendable {
        let productID: UUID
        let unitPriceMinor: Int64
        let currency: String
    }

    func prices(of ids: [UUID], on connection: PostgresConnection) async throws -> [UUID: Price] {
        var prices: [UUID: Price] = [:]
        for try await (id, price, currency) in try await connection.query("""
            SELECT id, price_minor, currency FROM orders.products WHERE id = ANY(\(ids))
            """, logger: logger).decode((UUID, Int64, String).self) {
            prices[id] = Price(productID: id, unitPriceMinor: price, currency: currency)
        }
        return prices
    }

    /// The order placed earlier with this idempotency key, and the hash of its request.
    func byIdempotencyKey(_ key: String, customerID: UUID, on connection: PostgresConnection) async throws -> (UUID, Data)? {
        for try await (id, hash) in try await connection.query("""
            SELECT id, request_hash FROM orders.orders WHERE customer_id = \(customerID) AND idempotency_key = \(key)
            """, logger: logger).decode((UUID, Data).self) {
            return (id, hash)
        }
        return nil
    }

    /// Stores a `pending` order and its lines in one statement.
    func insert(id: UUID, customerID: UUID, lines: [(Price, Int)], key: String, requestHash: Data, on connection: PostgresConnection) async throws {
        let total = lines.reduce(Int64(0)) { $0 + $1.0.unitPriceMinor * Int64($1.1) }
        try await connection.query("""
            WITH placed AS (
                INSERT INTO orders.orders (id, customer_id, status, total_minor, currency, idempotency_key, request_hash)
                VALUES (\(id), \(customerID), 'pending', \(total), \(lines[0].0.currency), \(key), \(requestHash))
                RETURNING id
            )
            INSERT INTO orders.order_lines (order_id, product_id, quantity, unit_price_minor)
            SELECT placed.id, line.product_id, line.quantity, line.unit_price_minor
            FROM placed, unnest(\(lines.map(\.0.productID))::uuid[], \(lines.map(\.1))::integer[], \(lines.map(\.0.unitPriceMinor))::bigint[])
                AS line(product_id, quantity, unit_price_minor)
            """, logger: logger)
    }

    /// Moves the order from `from` to `to`; false when it was not in `from`.
    func transition(_ id: UUID, from: OrderStatus, to: OrderStatus, reason: String? = nil, detail: String? = nil, on connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("""
            UPDATE orders.orders SET status = \(to.rawValue), updated_at = now(),
                rejection_reason = coalesce(\(reason), rejection_reason), rejection_detail = coalesce(\(detail), rejection_detail)
            WHERE id = \(id) AND status = \(from.rawValue) RETURNING 1
            """, logger: logger)
        for try await _ in rows { return true }
        return false
    }

    /// The order `id`.
    func find(_ id: UUID, on connection: PostgresConnection) async throws -> Order? {
        try await list(orderID: id, limit: 1, on: connection).first
    }

    /// Orders, newest first, filtered by whichever of the arguments are given; `before` is the
    /// pagination cursor (ids are UUIDv7, so id order is creation order).
    func list(orderID: UUID? = nil, customerID: UUID? = nil, status: OrderStatus? = nil, before: UUID? = nil, limit: Int,
              on connection: PostgresConnection) async throws -> [Order] {
        let rows = try await connection.query("""
            SELECT o.id, o.customer_id, o.status, o.total_minor, o.currency, o.rejection_reason, o.rejection_detail, o.created_at, o.updated_at,
                   coalesce((SELECT json_agg(json_build_object('product_id', l.product_id, 'quantity', l.quantity, 'unit_price_minor', l.unit_price_minor)
                                             ORDER BY l.product_id)::text FROM orders.order_lines l WHERE l.order_id = o.id), '[]')
            FROM orders.orders o
            WHERE (\(orderID)::uuid IS NULL OR o.id = \(orderID)) AND (\(customerID)::uuid IS NULL OR o.customer_id = \(customerID))
              AND (\(status?.rawValue)::text IS NULL OR o.status = \(status?.rawValue)) AND (\(before)::uuid IS NULL OR o.id < \(before))
            ORDER BY o.id DESC LIMIT \(limit)
            """, logger: logger)
        var orders: [Order] = []
        for try await (id, customer, status, total, currency, reason, detail, created, updated, lines)
            in rows.decode((UUID, UUID, String, Int64, String, String?, String?, Date, Date, String).self) {
            let items = try JSONDecoder().decode([StoredLine].self, from: Data(lines.utf8)).map { line in
                Order.Item(productID: line.productID.uuidString.lowercased(), quantity: line.quantity,
                           unitPrice: Money(amountMinor: line.unitPriceMinor, currency: currency))
            }
            orders.append(Order(
                id: id.uuidString.lowercased(), customerID: customer.uuidString.lowercased(), status: OrderStatus(rawValue: status) ?? .pending,
                total: Money(amountMinor: total, currency: currency), items: items, rejectionReason: reason, rejectionDetail: detail,
                createdAt: created, updatedAt: updated
            ))
        }
        return orders
    }

    private struct StoredLine: Decodable {
        let productID: UUID
        let quantity: Int
        let unitPriceMinor: Int64
        enum CodingKeys: String, CodingKey {
            case productID = "product_id", quantity, unitPriceMinor = "unit_price_minor"
        }
    }
}
