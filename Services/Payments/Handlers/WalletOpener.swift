import Contracts
import Foundation
import Logging
import Outbox
import PostgresNIO

/// Opens a customer's wallet with the starting balance, once per user however often it is
/// asked: when `user_registered` arrives, or when an authorization for the customer overtakes
/// that event (its partition lagging) — the saga validated the customer at users already.
struct WalletOpener: MessageHandler {
    let ledger: Ledger
    let currency: String
    let startingBalanceMinor: Int64

    func handle(_ event: UserRegistered, context: HandlerContext) async throws {
        try await open(for: event.userID, on: context.connection, logger: context.logger)
    }

    /// Opens the wallet of `userID` unless it exists; true when this call opened it.
    @discardableResult
    func open(for userID: UUID, on connection: PostgresConnection, logger: Logger) async throws -> Bool {
        let opened = try await ledger.openWallet(for: userID, currency: currency, startingBalanceMinor: startingBalanceMinor, on: connection)
        if opened { logger.info("wallet opened", metadata: ["user.id": "\(userID)"]) }
        return opened
    }
}
