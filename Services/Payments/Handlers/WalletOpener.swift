import Contracts
import Outbox

/// Opens a wallet with the starting balance when `user_registered` arrives (once per user,
/// however often the event is delivered).
struct WalletOpener: MessageHandler {
    let ledger: Ledger
    let currency: String
    let startingBalanceMinor: Int64

    func handle(_ event: UserRegistered, context: HandlerContext) async throws {
        if try await ledger.openWallet(for: event.userID, currency: currency, startingBalanceMinor: startingBalanceMinor, on: context.connection) {
            context.logger.info("wallet opened", metadata: ["user.id": "\(event.userID)"])
        }
    }
}
