/// An amount of money: integer minor units (cents) and an ISO 4217 currency code. Never
/// floating point.
///
/// Wire form: `{"amount_minor": 1999, "currency": "EUR"}`. Decoding rejects a currency that is
/// not three upper-case ASCII letters.
public struct Money: Codable, Sendable, Hashable {
    /// The amount in the currency's minor unit (for example cents).
    public var amountMinor: Int64
    /// ISO 4217 code, three upper-case letters such as `EUR`.
    public var currency: String

    /// An amount in minor units of `currency`.
    public init(amountMinor: Int64, currency: String) {
        self.amountMinor = amountMinor
        self.currency = currency
    }

    /// Whether `code` has the shape of an ISO 4217 code: three upper-case ASCII letters.
    public static func isCurrencyCode(_ code: String) -> Bool {
        let bytes = Array(code.utf8)
        return bytes.count == 3 && bytes.allSatisfy { (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains($0) }
    }

    enum CodingKeys: String, CodingKey {
        case amountMinor = "amount_minor"
        case currency
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let currency = try container.decode(String.self, forKey: .currency)
        guard Self.isCurrencyCode(currency) else {
            throw DecodingError.dataCorruptedError(
                forKey: .currency,
                in: container,
                debugDescription: "\"\(currency)\" is not an ISO 4217 currency code (three upper-case letters)"
            )
        }
        self.init(amountMinor: try container.decode(Int64.self, forKey: .amountMinor), currency: currency)
    }
}
