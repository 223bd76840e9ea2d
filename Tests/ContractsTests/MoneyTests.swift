import Contracts
import Foundation
import Testing

@Suite("Money")
struct MoneyTests {
    @Test("encodes minor units and the currency under snake_case keys")
    func wire() throws {
        let money = Money(amountMinor: 1_999, currency: "EUR")
        #expect(String(decoding: try MessageCodec.encode(money), as: UTF8.self) == #"{"amount_minor":1999,"currency":"EUR"}"#)
        #expect(try MessageCodec.decode(Money.self, from: try MessageCodec.encode(money)) == money)
        let large = Money(amountMinor: Int64.max, currency: "JPY")
        #expect(try MessageCodec.decode(Money.self, from: try MessageCodec.encode(large)) == large)
    }

    @Test("accepts ISO 4217-shaped codes", arguments: ["EUR", "USD", "JPY", "CHF"])
    func accepts(_ code: String) throws {
        #expect(Money.isCurrencyCode(code))
        let json = #"{"amount_minor":-5,"currency":"\#(code)"}"#
        #expect(try MessageCodec.decode(Money.self, from: Array(json.utf8)) == Money(amountMinor: -5, currency: code))
    }

    @Test("rejects anything but three upper-case ASCII letters", arguments: ["eur", "EURO", "EU", "", "E1R", "ÉUR", "EUR "])
    func rejects(_ code: String) {
        #expect(!Money.isCurrencyCode(code))
        let json = #"{"amount_minor":100,"currency":"\#(code)"}"#
        #expect {
            try MessageCodec.decode(Money.self, from: Array(json.utf8))
        } throws: { error in
            guard case .decodingFailed(_, let reason) = error as? ContractCodingError else { return false }
            return reason.contains("currency")
        }
    }

    @Test("amounts are integers: a fractional amount is refused")
    func fractional() {
        #expect(throws: ContractCodingError.self) {
            try MessageCodec.decode(Money.self, from: Array(#"{"amount_minor":19.99,"currency":"EUR"}"#.utf8))
        }
    }
}
