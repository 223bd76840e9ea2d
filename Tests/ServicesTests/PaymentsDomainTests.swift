import Contracts
import Foundation
import Testing
@testable import Payments

/// Ledger postings and payment decisions: pure, no I/O.
@Suite("Payments domain rules")
struct PaymentsDomainTests {
    let order = UUID(), customer = UUID()
    func euros(_ minor: Int64) -> Money { Money(amountMinor: minor, currency: "EUR") }
    func wallet(_ balance: Int64, currency: String = "EUR") -> Wallet {
        Wallet(accountID: UUID(), userID: customer, currency: currency, balanceMinor: balance)
    }
    func record(_ status: PaymentRecord.Status, _ amount: Int64 = 500) -> PaymentRecord {
        PaymentRecord(orderID: order, paymentID: UUID(), customerID: customer, amount: euros(amount), status: status,
                      declineReason: status == .declined ? .insufficientFunds : nil)
    }

    @Test("postings must balance, have two legs and no zero leg")
    func postings() throws {
        let a = UUID(), b = UUID()
        let transfer = try LedgerPosting.transfer(.deposit, reference: "r", amountMinor: 250, from: a, to: b)
        #expect(transfer.legs.map(\.amountMinor) == [-250, 250])
        #expect(throws: LedgerError.unbalanced(sum: 1)) {
            try LedgerPosting(kind: .deposit, reference: "r", legs: [.init(account: a, amountMinor: -1), .init(account: b, amountMinor: 2)])
        }
        #expect(throws: LedgerError.tooFewLegs) { try LedgerPosting(kind: .deposit, reference: "r", legs: [.init(account: a, amountMinor: 0)]) }
        #expect(throws: LedgerError.zeroLeg) { try LedgerPosting.transfer(.deposit, reference: "r", amountMinor: 0, from: a, to: b) }
    }

    @Test("authorization decisions")
    func authorization() {
        func decide(_ existing: PaymentRecord? = nil, wallet: Wallet?, amount: Int64, inject: Bool = false, currency: String = "EUR") -> AuthorizationDecision {
            AuthorizationDecision.decide(existing: existing, wallet: wallet, amount: Money(amountMinor: amount, currency: currency),
                                         perOrderLimitMinor: 1_000, injectDecline: inject)
        }
        #expect(decide(wallet: wallet(500), amount: 500) == .authorize)
        #expect(decide(wallet: wallet(499), amount: 500).reason == .insufficientFunds)
        #expect(decide(wallet: wallet(5_000), amount: 1_001).reason == .overLimit)
        #expect(decide(wallet: nil, amount: 1).reason == .noWallet)
        #expect(decide(wallet: wallet(500), amount: 1, currency: "USD").reason == .noWallet)
        #expect(decide(wallet: wallet(500), amount: 1, inject: true).reason == .injectedFault)
        #expect(decide(wallet: wallet(0), amount: 0) == .authorize, "a free order is authorized")
        #expect(decide(wallet: wallet(500), amount: -1) == .malformed("amount -1 is negative"), "a negative amount would credit the customer")
        let authorized = record(.authorized)
        #expect(decide(authorized, wallet: wallet(0), amount: 500) == .repeatOutcome(authorized))
        let declined = record(.declined)
        #expect(decide(declined, wallet: wallet(9_999), amount: 500) == .repeatOutcome(declined))
        let voided = record(.voided)
        #expect(decide(voided, wallet: wallet(9_999), amount: 500) == .closed(voided))
    }

    @Test("void and refund decisions")
    func returns() {
        let authorized = record(.authorized)
        #expect(ReturnDecision.decide(existing: authorized, target: .voided) == .returnFunds(authorized))
        #expect(ReturnDecision.decide(existing: authorized, target: .refunded) == .returnFunds(authorized))
        let voided = record(.voided), refunded = record(.refunded), declined = record(.declined)
        #expect(ReturnDecision.decide(existing: voided, target: .voided) == .repeatReply(voided))
        #expect(ReturnDecision.decide(existing: refunded, target: .refunded) == .repeatReply(refunded))
        #expect(ReturnDecision.decide(existing: declined, target: .voided) == .nothingTaken(declined))
        #expect(ReturnDecision.decide(existing: nil, target: .voided) == .nothingTaken(nil))
        #expect(ReturnDecision.decide(existing: refunded, target: .voided) == .nothingTaken(refunded), "a void after a refund is answered: nothing is held")
        for (existing, target) in [(nil, PaymentRecord.Status.refunded), (voided, .refunded), (declined, .refunded)] {
            guard case .inconsistent = ReturnDecision.decide(existing: existing, target: target) else {
                Issue.record("\(String(describing: existing?.status)) → \(target) should be inconsistent"); continue
            }
        }
    }

    @Test("fault settings validate their ranges")
    func faults() {
        #expect(FaultSettings(declineRate: 0.5, latencyMs: 10).violations.isEmpty)
        #expect(FaultSettings(declineRate: 1.5, latencyMs: -1).violations.map(\.field) == ["decline_rate", "latency_ms"])
    }
}

extension AuthorizationDecision {
    var reason: PaymentDeclineReason? {
        if case .decline(let reason, _) = self { return reason }
        return nil
    }
}
