import Contracts
import ServiceKit

/// What the payments service reads beyond the common and data-service settings.
struct PaymentsSettings: Sendable {
    /// `PAYMENTS_CURRENCY`: the currency of new wallets (default EUR).
    var currency: String
    /// `PAYMENTS_STARTING_BALANCE_MINOR`: a new wallet's balance (default 10000, i.e. 100.00).
    var startingBalanceMinor: Int64
    /// `PAYMENTS_ORDER_LIMIT_MINOR`: the largest authorization (default 50000, i.e. 500.00).
    var orderLimitMinor: Int64
    /// `PAYMENTS_IDEMPOTENCY_RETENTION_HOURS`: how long a deposit's `Idempotency-Key` is
    /// remembered (default 24); a key reused after that is a new deposit.
    var idempotencyRetentionHours: Int
    var faults: FaultSettings

    static let currencyKey = SettingKey("payments.currency", expecting: "an ISO 4217 code such as EUR")
    static let startingBalanceKey = SettingKey("payments.starting.balance.minor", expecting: "an amount in minor units, 0-100000000")
    static let orderLimitKey = SettingKey("payments.order.limit.minor", expecting: "an amount in minor units, 1-100000000")
    static let idempotencyRetentionKey = SettingKey("payments.idempotency.retention.hours", expecting: "an integer number of hours 1-8760")

    static func read(from settings: Settings) throws(ConfigurationError) -> PaymentsSettings {
        PaymentsSettings(
            currency: try settings.optionalParsed(currencyKey) { Money.isCurrencyCode($0) ? $0 : nil } ?? "EUR",
            startingBalanceMinor: try settings.optionalParsed(startingBalanceKey) { Int64($0).flatMap { (0...100_000_000).contains($0) ? $0 : nil } } ?? 10_000,
            orderLimitMinor: try settings.optionalParsed(orderLimitKey) { Int64($0).flatMap { (1...100_000_000).contains($0) ? $0 : nil } } ?? 50_000,
            idempotencyRetentionHours: try settings.optionalParsed(idempotencyRetentionKey) { Int($0).flatMap { (1...8_760).contains($0) ? $0 : nil } } ?? 24,
            faults: try FaultSettings.read(from: settings)
        )
    }
}
