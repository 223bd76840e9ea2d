import Contracts
import Foundation
import Metrics
import Outbox

/// The payments participant of the sagas: `authorize_payment`, `void_payment` and
/// `refund_payment`. Each runs in the inbox transaction (so a redelivered command id is a
/// no-op) and is also idempotent by order: a command repeated under a new id gets the same
/// answer again without moving money twice. Every answer is a reply (to the saga) plus an
/// event, both through the outbox.
struct PaymentCommandHandlers: Sendable {
    let ledger: Ledger
    let payments: PaymentStore
    let faults: FaultInjector
    let perOrderLimitMinor: Int64
    /// Opens the wallet of a customer whose `user_registered` has not arrived yet.
    let wallets: WalletOpener

    func register(in handlers: inout MessageHandlers) {
        handlers.on(AuthorizePayment.self) { command, context in try await authorize(command, context) }
        handlers.on(VoidPayment.self) { command, context in
            try await returnFunds(command.orderID, customerID: command.customerID, target: .voided, context)
        }
        handlers.on(RefundPayment.self) { command, context in
            try await returnFunds(command.orderID, customerID: command.customerID, target: .refunded, context)
        }
    }

    /// `payments_commands_total{command,outcome}`: what each handled command led to.
    static func count(_ command: String, _ outcome: String) {
        Counter(label: "payments_commands_total", dimensions: [("command", command), ("outcome", outcome)]).increment()
    }

    /// Counts a command whose outcome commits with the handler's transaction, once it has: a
    /// transaction rolled back and retried would otherwise count the command twice. (Outcomes
    /// that dead-letter the command roll back; they are counted when decided.)
    static func countOnCommit(_ command: String, _ outcome: String, _ context: HandlerContext) {
        context.afterCommit { count(command, outcome) }
    }

    func authorize(_ command: AuthorizePayment, _ context: HandlerContext) async throws {
        await faults.delay()
        let connection = context.connection
        let existing = try await payments.payment(for: command.orderID, on: connection)
        var wallet = try await ledger.wallet(of: command.customerID, locking: true, on: connection)
        if wallet == nil, existing == nil, command.amount.amountMinor >= 0 {
            // The customer's user_registered is still on its way (another partition). Open the
            // wallet now; a concurrent opener makes this wait for its commit, so read again
            // either way.
            try await wallets.open(for: command.customerID, on: connection, logger: context.logger)
            wallet = try await ledger.wallet(of: command.customerID, locking: true, on: connection)
        }
        let decision = AuthorizationDecision.decide(
            existing: existing, wallet: wallet, amount: command.amount, perOrderLimitMinor: perOrderLimitMinor,
            injectDecline: existing == nil && faults.shouldDecline()
        )
        let now = Date()
        switch decision {
        case .authorize: Self.countOnCommit("authorize", "authorized", context)
        case .decline(let reason, _): Self.countOnCommit("authorize", "declined_\(reason.rawValue)", context)
        case .repeatOutcome: Self.countOnCommit("authorize", "repeated", context)
        case .closed: Self.count("authorize", "closed")
        case .malformed: Self.count("authorize", "malformed")
        }
        switch decision {
        case .authorize:
            guard let wallet else { return }
            if command.amount.amountMinor > 0 {  // a free order moves no money (a ledger leg is never zero)
                let merchant = try await ledger.systemAccount(.merchant, currency: wallet.currency, on: connection)
                try await ledger.post(.transfer(
                    .authorization, reference: "order:\(command.orderID.uuidString.lowercased())", amountMinor: command.amount.amountMinor,
                    from: wallet.accountID, to: merchant
                ), on: connection)
            }
            let record = PaymentRecord(
                orderID: command.orderID, paymentID: UUID.v7(), customerID: command.customerID, amount: command.amount,
                status: .authorized, declineReason: nil
            )
            try await payments.insert(record, on: connection)
            try await context.append(PaymentAuthorized(
                paymentID: record.paymentID, orderID: record.orderID, customerID: record.customerID, amount: record.amount, authorizedAt: now
            ))
            try await context.append(PaymentAuthorizedReply(orderID: record.orderID, paymentID: record.paymentID, amount: record.amount))
            if faults.take(.beforeCommit) { faults.crash(at: .beforeCommit) }
            if faults.take(.afterCommitBeforeReply) {
                context.afterCommit { faults.crash(at: .afterCommitBeforeReply) }
            }
        case .decline(let reason, let detail):
            try await payments.insert(PaymentRecord(
                orderID: command.orderID, paymentID: UUID.v7(), customerID: command.customerID, amount: command.amount,
                status: .declined, declineReason: reason
            ), on: connection)
            try await context.append(PaymentDeclined(
                orderID: command.orderID, customerID: command.customerID, amount: command.amount, reason: reason, declinedAt: now
            ))
            try await context.append(PaymentDeclinedReply(orderID: command.orderID, reason: reason, detail: detail))
        case .repeatOutcome(let record):
            if record.status == .authorized {
                try await context.append(PaymentAuthorizedReply(orderID: record.orderID, paymentID: record.paymentID, amount: record.amount))
            } else {
                try await context.append(PaymentDeclinedReply(orderID: record.orderID, reason: record.declineReason ?? .insufficientFunds))
            }
        case .closed(let record):
            throw PermanentFailure("authorization for order \(record.orderID) arrived after its payment was \(record.status.rawValue)")
        case .malformed(let reason):
            throw PermanentFailure("authorization for order \(command.orderID): \(reason)")
        }
    }

    func returnFunds(_ orderID: UUID, customerID: UUID, target: PaymentRecord.Status, _ context: HandlerContext) async throws {
        await faults.delay()
        let connection = context.connection
        let existing = try await payments.payment(for: orderID, on: connection)
        let now = Date()
        let decision = ReturnDecision.decide(existing: existing, target: target)
        let command = target == .voided ? "void" : "refund"
        switch decision {
        case .returnFunds: Self.countOnCommit(command, "returned", context)
        case .repeatReply: Self.countOnCommit(command, "repeated", context)
        case .nothingTaken: Self.countOnCommit(command, "nothing_taken", context)
        case .inconsistent: target == .refunded ? Self.countOnCommit(command, "refused", context) : Self.count(command, "inconsistent")
        }
        switch decision {
        case .returnFunds(let record):
            guard let wallet = try await ledger.wallet(of: record.customerID, locking: true, on: connection) else {
                throw PermanentFailure("wallet of customer \(record.customerID) is gone")
            }
            if record.amount.amountMinor > 0 {  // a free order took nothing
                let merchant = try await ledger.systemAccount(.merchant, currency: record.amount.currency, on: connection)
                try await ledger.post(.transfer(
                    target == .voided ? .void : .refund, reference: "order:\(orderID.uuidString.lowercased())",
                    amountMinor: record.amount.amountMinor, from: merchant, to: wallet.accountID
                ), on: connection)
            }
            try await payments.setStatus(target, orderID: orderID, on: connection)
            try await emit(record, target: target, at: now, event: true, context)
        case .repeatReply(let record):
            try await emit(record, target: target, at: now, event: false, context)
        case .nothingTaken(let record):
            if record == nil {
                // A void overtaking its authorization: leave a tombstone so that the late
                // authorization is refused instead of debiting.
                try await payments.insert(PaymentRecord(
                    orderID: orderID, paymentID: UUID.v7(), customerID: customerID, amount: Money(amountMinor: 0, currency: "XXX"),
                    status: .voided, declineReason: nil
                ), on: connection)
            }
            try await context.append(PaymentVoidedReply(orderID: orderID, paymentID: nil, amount: Money(amountMinor: 0, currency: record?.amount.currency ?? "XXX")))
        case .inconsistent(let reason) where target == .refunded:
            // A refund that cannot happen is answered, so the CancelOrder saga ends instead of
            // re-sending it for ever (it is retried until answered).
            try await context.append(PaymentRefundRefusedReply(orderID: orderID, reason: reason))
        case .inconsistent(let reason):
            throw PermanentFailure("order \(orderID): \(reason)")
        }
    }

    private func emit(_ record: PaymentRecord, target: PaymentRecord.Status, at now: Date, event: Bool, _ context: HandlerContext) async throws {
        if target == .voided {
            if event {
                try await context.append(PaymentVoided(paymentID: record.paymentID, orderID: record.orderID, customerID: record.customerID, amount: record.amount, voidedAt: now))
            }
            try await context.append(PaymentVoidedReply(orderID: record.orderID, paymentID: record.paymentID, amount: record.amount))
        } else {
            if event {
                try await context.append(PaymentRefunded(paymentID: record.paymentID, orderID: record.orderID, customerID: record.customerID, amount: record.amount, refundedAt: now))
            }
            try await context.append(PaymentRefundedReply(orderID: record.orderID, paymentID: record.paymentID, amount: record.amount))
        }
    }
}
