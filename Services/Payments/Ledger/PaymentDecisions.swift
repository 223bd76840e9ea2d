import Contracts
import Foundation

/// A stored payment: one per order.
struct PaymentRecord: Sendable, Equatable {
    enum Status: String, Sendable {
        case authorized, declined, voided, refunded
    }

    let orderID: UUID
    let paymentID: UUID
    let customerID: UUID
    let amount: Money
    let status: Status
    let declineReason: PaymentDeclineReason?
}

/// What an `authorize_payment` leads to, decided from the stored state alone (pure).
enum AuthorizationDecision: Equatable {
    /// Debit the wallet.
    case authorize
    /// Record a decline.
    case decline(PaymentDeclineReason, detail: String)
    /// The order was decided before (a redelivery under a new command id): repeat that answer.
    case repeatOutcome(PaymentRecord)
    /// The order's payment was voided or refunded already: a late command, never debited.
    case closed(PaymentRecord)
    /// The command cannot be right (a negative amount would credit the customer): refused.
    case malformed(String)

    static func decide(
        existing: PaymentRecord?, wallet: Wallet?, amount: Money, perOrderLimitMinor: Int64, injectDecline: Bool
    ) -> AuthorizationDecision {
        if let existing {
            switch existing.status {
            case .authorized, .declined: return .repeatOutcome(existing)
            case .voided, .refunded: return .closed(existing)
            }
        }
        guard amount.amountMinor >= 0 else {
            return .malformed("amount \(amount.amountMinor) is negative")
        }
        guard let wallet, wallet.currency == amount.currency else {
            return .decline(.noWallet, detail: "the customer has no wallet in \(amount.currency)")
        }
        if amount.amountMinor > perOrderLimitMinor {
            return .decline(.overLimit, detail: "amount \(amount.amountMinor) is over the per-order limit \(perOrderLimitMinor)")
        }
        if injectDecline {
            return .decline(.injectedFault, detail: "declined by fault injection")
        }
        if wallet.balanceMinor < amount.amountMinor {
            return .decline(.insufficientFunds, detail: "wallet balance \(wallet.balanceMinor) is less than the amount \(amount.amountMinor)")
        }
        return .authorize
    }
}

/// What a `void_payment` or `refund_payment` leads to (pure).
enum ReturnDecision: Equatable {
    /// Move the authorized amount back to the wallet.
    case returnFunds(PaymentRecord)
    /// Done before: repeat the reply.
    case repeatReply(PaymentRecord)
    /// Nothing is held for the order (declined, no authorization yet, or a void after a
    /// refund gave the money back): reply without moving money.
    case nothingTaken(PaymentRecord?)
    /// The command makes no sense for the payment's state (refunding a voided payment…).
    case inconsistent(String)

    /// `target` is `.voided` for a void, `.refunded` for a refund.
    static func decide(existing: PaymentRecord?, target: PaymentRecord.Status) -> ReturnDecision {
        guard let existing else {
            return target == .voided ? .nothingTaken(nil) : .inconsistent("no payment to refund")
        }
        switch (existing.status, target) {
        case (.authorized, _):
            return .returnFunds(existing)
        case (.voided, .voided), (.refunded, .refunded):
            return .repeatReply(existing)
        case (.declined, .voided), (.refunded, .voided):
            // A void asks that the customer's money not be held; after a refund it is not, so
            // the compensation is answered instead of being re-sent until an operator steps in.
            return .nothingTaken(existing)
        case (.declined, _), (.voided, _), (.refunded, _):
            return .inconsistent("payment is \(existing.status.rawValue); cannot \(target == .voided ? "void" : "refund") it")
        }
    }
}
