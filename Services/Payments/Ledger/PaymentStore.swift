import Contracts
import Foundation
import Logging
import PostgresNIO

/// The `payments.payments` table.
struct PaymentStore: Sendable {
    let logger: Logger

    /// The payment of `orderID`, locked for the rest of the transaction.
    func payment(for orderID: UUID, on connection: PostgresConnection) async throws -> PaymentRecord? {
        let rows = try await connection.query("""
            SELECT payment_id, customer_id, amount_minor, currency, status, decline_reason
            FROM payments.payments WHERE order_id = \(orderID) FOR UPDATE
            """, logger: logger)
        for try await (payment, customer, amount, currency, status, reason) in rows.decode((UUID, UUID, Int64, String, String, String?).self) {
            guard let status = PaymentRecord.Status(rawValue: status) else { throw CorruptRow() }
            return PaymentRecord(
                orderID: orderID, paymentID: payment, customerID: customer, amount: Money(amountMinor: amount, currency: currency),
                status: status, declineReason: reason.flatMap(PaymentDeclineReason.init(rawValue:))
            )
        }
        return nil
    }

    func insert(_ record: PaymentRecord, on connection: PostgresConnection) async throws {
        try await connection.query("""
            INSERT INTO payments.payments (order_id, payment_id, customer_id, amount_minor, currency, status, decline_reason)
            VALUES (\(record.orderID), \(record.paymentID), \(record.customerID), \(record.amount.amountMinor),
                    \(record.amount.currency), \(record.status.rawValue), \(record.declineReason?.rawValue))
            """, logger: logger)
    }

    func setStatus(_ status: PaymentRecord.Status, orderID: UUID, on connection: PostgresConnection) async throws {
        try await connection.query("""
            UPDATE payments.payments SET status = \(status.rawValue), updated_at = now() WHERE order_id = \(orderID)
            """, logger: logger)
    }

    struct CorruptRow: Error {}
}
