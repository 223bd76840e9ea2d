import Foundation
import Logging
import PostgresNIO

/// Stock reservations: the local steps `reserve_stock` and `release_stock`.
struct StockStore: Sendable {
    let logger: Logger

    /// Reserves every line or none: the products are locked in id order (no deadlocks between
    /// orders), checked, then decremented. False when any is short.
    ///
    /// The lock is `FOR NO KEY UPDATE`, not `FOR UPDATE`: the order's own lines already hold
    /// `FOR KEY SHARE` on these rows (their foreign keys), and two orders each holding that
    /// and each asking for `FOR UPDATE` deadlock — `make bench-saga` found exactly that.
    func reserve(orderID: UUID, lines: [OrderSagaData.Line], on connection: PostgresConnection) async throws -> Bool {
        let ids = lines.map(\.productID)
        var stock: [UUID: Int] = [:]
        for try await (id, available) in try await connection.query("""
            SELECT id, stock FROM orders.products WHERE id = ANY(\(ids)) ORDER BY id FOR NO KEY UPDATE
            """, logger: logger).decode((UUID, Int).self) {
            stock[id] = available
        }
        guard lines.allSatisfy({ (stock[$0.productID] ?? 0) >= $0.quantity }) else { return false }
        // Decrement and record every line in one statement: the rows are locked until commit,
        // so each round trip saved here shortens the wait of every other order for them.
        try await connection.query("""
            WITH line AS (SELECT * FROM unnest(\(lines.map(\.productID)), \(lines.map { Int64($0.quantity) })) AS l(product_id, quantity)),
            taken AS (UPDATE orders.products p SET stock = p.stock - line.quantity FROM line WHERE p.id = line.product_id)
            INSERT INTO orders.stock_reservations (order_id, product_id, quantity)
            SELECT \(orderID), line.product_id, line.quantity FROM line
            ON CONFLICT DO NOTHING
            """, logger: logger)
        return true
    }

    /// Puts back what the order holds (once: released reservations stay released). The
    /// products are locked first, in id order as ``reserve(orderID:lines:on:)`` locks them: the
    /// update's join would take them in whatever order its plan reads them, and a reservation
    /// holding one and waiting for another deadlocks with it.
    func release(orderID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("""
            SELECT p.id FROM orders.products p
            WHERE p.id IN (SELECT product_id FROM orders.stock_reservations WHERE order_id = \(orderID) AND released_at IS NULL)
            ORDER BY p.id FOR NO KEY UPDATE
            """, logger: logger)
        try await connection.query("""
            WITH released AS (
                UPDATE orders.stock_reservations SET released_at = now()
                WHERE order_id = \(orderID) AND released_at IS NULL RETURNING product_id, quantity)
            UPDATE orders.products p SET stock = p.stock + r.quantity FROM released r WHERE p.id = r.product_id
            """, logger: logger)
    }
}
