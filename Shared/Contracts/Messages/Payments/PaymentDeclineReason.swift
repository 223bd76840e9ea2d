/// Why payments declined a payment.
public enum PaymentDeclineReason: String, Codable, Sendable, CaseIterable, SchemaEnumeration {
    /// The wallet balance is below the amount.
    case insufficientFunds = "insufficient_funds"
    /// The amount exceeds the customer's per-order limit.
    case overLimit = "over_limit"
    /// The customer has no wallet.
    case noWallet = "no_wallet"
    /// Declined by fault injection (demos and tests).
    case injectedFault = "injected_fault"
}
