import Foundation

/// Why a ledger transaction was refused before reaching the database.
enum LedgerError: Error, Equatable {
    /// A transaction needs at least two legs.
    case tooFewLegs
    /// A leg of amount zero says nothing.
    case zeroLeg
    /// The legs do not sum to zero.
    case unbalanced(sum: Int64)
}

/// The kinds of ledger transaction (the `kind` column).
enum LedgerTransactionKind: String, Sendable {
    /// A new wallet's starting balance, from the deposits account.
    case opening
    /// Money paid in from outside.
    case deposit
    /// An order's payment: wallet → merchant.
    case authorization
    /// A saga compensation: merchant → wallet.
    case void
    /// A cancelled order's refund: merchant → wallet.
    case refund
}

/// One balanced movement of money: legs (account, signed amount) that sum to zero. Pure.
struct LedgerPosting: Sendable, Equatable {
    struct Leg: Sendable, Equatable {
        let account: UUID
        let amountMinor: Int64
    }

    let kind: LedgerTransactionKind
    /// What the movement is about (an order id, an idempotency key…).
    let reference: String
    let legs: [Leg]

    init(kind: LedgerTransactionKind, reference: String, legs: [Leg]) throws(LedgerError) {
        guard legs.count >= 2 else { throw .tooFewLegs }
        guard legs.allSatisfy({ $0.amountMinor != 0 }) else { throw .zeroLeg }
        let sum = legs.reduce(Int64(0)) { $0 + $1.amountMinor }
        guard sum == 0 else { throw .unbalanced(sum: sum) }
        self.kind = kind
        self.reference = reference
        self.legs = legs
    }

    /// `amount` from `source` to `destination`.
    static func transfer(_ kind: LedgerTransactionKind, reference: String, amountMinor: Int64, from source: UUID, to destination: UUID) throws(LedgerError) -> LedgerPosting {
        try LedgerPosting(kind: kind, reference: reference, legs: [
            Leg(account: source, amountMinor: -amountMinor), Leg(account: destination, amountMinor: amountMinor),
        ])
    }
}
