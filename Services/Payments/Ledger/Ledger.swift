import Foundation
import Logging
import PostgresNIO

/// A wallet account.
struct Wallet: Sendable, Equatable {
    let accountID: UUID
    let userID: UUID
    let currency: String
    let balanceMinor: Int64
}

/// The accounts that are not wallets, one of each per currency.
enum SystemAccount: String, Sendable {
    /// Where authorized payments go (and voids and refunds come from).
    case merchant
    /// The outside world: opening balances and deposits come from here.
    case deposits
}

/// The ledger's accounts and postings, always on the caller's connection (inside its transaction).
struct Ledger: Sendable {
    let logger: Logger

    /// The wallet of `userID`; `locking` takes a row lock until the transaction ends.
    func wallet(of userID: UUID, locking: Bool = false, on connection: PostgresConnection) async throws -> Wallet? {
        let query: PostgresQuery = locking
            ? "SELECT id, currency, balance_minor FROM payments.accounts WHERE user_id = \(userID) FOR UPDATE"
            : "SELECT id, currency, balance_minor FROM payments.accounts WHERE user_id = \(userID)"
        for try await (id, currency, balance) in try await connection.query(query, logger: logger).decode((UUID, String, Int64).self) {
            return Wallet(accountID: id, userID: userID, currency: currency, balanceMinor: balance)
        }
        return nil
    }

    /// Opens the wallet of `userID` with `startingBalance` (an opening transaction from the
    /// deposits account); false when it exists already.
    func openWallet(for userID: UUID, currency: String, startingBalanceMinor: Int64, on connection: PostgresConnection) async throws -> Bool {
        let id = UUID()
        var created = false
        for try await _ in try await connection.query("""
            INSERT INTO payments.accounts (id, kind, user_id, currency, balance_minor) VALUES (\(id), 'wallet', \(userID), \(currency), 0)
            ON CONFLICT (user_id) DO NOTHING RETURNING 1
            """, logger: logger) { created = true }
        guard created else { return false }
        if startingBalanceMinor > 0 {
            let deposits = try await systemAccount(.deposits, currency: currency, on: connection)
            try await post(.transfer(.opening, reference: "user:\(userID.uuidString.lowercased())", amountMinor: startingBalanceMinor, from: deposits, to: id), on: connection)
        }
        return true
    }

    /// The system account of `kind` in `currency`, created on first use. Read first: after the
    /// first use this is one indexed read, and no insert attempt has to check the unique index
    /// against concurrent transactions.
    func systemAccount(_ kind: SystemAccount, currency: String, on connection: PostgresConnection) async throws -> UUID {
        if let id = try await existingSystemAccount(kind, currency: currency, on: connection) { return id }
        try await connection.query("""
            INSERT INTO payments.accounts (id, kind, currency, balance_minor) VALUES (\(UUID()), \(kind.rawValue), \(currency), NULL)
            ON CONFLICT (kind, currency) WHERE kind <> 'wallet' DO NOTHING
            """, logger: logger)
        guard let id = try await existingSystemAccount(kind, currency: currency, on: connection) else { throw MissingSystemAccount() }
        return id
    }

    private func existingSystemAccount(_ kind: SystemAccount, currency: String, on connection: PostgresConnection) async throws -> UUID? {
        for try await id in try await connection.query("""
            SELECT id FROM payments.accounts WHERE kind = \(kind.rawValue) AND currency = \(currency)
            """, logger: logger).decode(UUID.self) {
            return id
        }
        return nil
    }

    struct MissingSystemAccount: Error {}

    /// Writes `posting` in one statement (the transaction row and its legs, in order); the
    /// database checks again that it balances (at commit) and that no wallet goes negative.
    @discardableResult
    func post(_ posting: LedgerPosting, on connection: PostgresConnection) async throws -> UUID {
        let id = UUID()
        try await connection.query("""
            WITH posted AS (
                INSERT INTO payments.ledger_transactions (id, kind, reference) VALUES (\(id), \(posting.kind.rawValue), \(posting.reference))
                RETURNING id)
            INSERT INTO payments.ledger_entries (transaction_id, account_id, amount_minor)
            SELECT posted.id, leg.account, leg.amount
            FROM posted, unnest(\(posting.legs.map(\.account)), \(posting.legs.map(\.amountMinor))) WITH ORDINALITY AS leg(account, amount, position)
            ORDER BY leg.position
            """, logger: logger)
        return id
    }
}
