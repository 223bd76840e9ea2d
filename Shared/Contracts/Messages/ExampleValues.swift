import Foundation

/// Fixed values shared by the messages' ``MessageContract/example``s, so one saga's examples
/// describe one order.
enum ExampleValues {
    /// 2026-01-01T12:00:00Z.
    static let time = Date(timeIntervalSince1970: 1_767_268_800)
    /// The customer (and user) of the examples.
    static let customerID = uuid(0x01)
    /// The order of the examples.
    static let orderID = uuid(0x02)
    /// The payment of the examples.
    static let paymentID = uuid(0x03)
    /// The product of the example order line.
    static let productID = uuid(0x04)
    /// Two items at 24.99 EUR.
    static let total = Money(amountMinor: 4_998, currency: "EUR")

    /// A UUIDv7 at ``time`` whose last byte is `last`.
    private static func uuid(_ last: UInt8) -> UUID {
        UUID(uuid: (0x01, 0x9B, 0x79, 0x6D, 0xD6, 0x00, 0x70, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, last))
    }
}
