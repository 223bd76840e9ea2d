import Contracts
import Foundation
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// payments as a saga participant: commands in over Kafka, replies out through its outbox.
    @Suite("Payment commands")
    struct PaymentCommandTests {
        static func euros(_ minor: Int64) -> Money { Money(amountMinor: minor, currency: "EUR") }

        @Test("authorize delivered twice debits once; void and refund restore the balance; declines leave it alone")
        func commands() async throws {
            let fleet = try await UsersAndPayments.start(payments: ["PAYMENTS_STARTING_BALANCE_MINOR": "10000", "PAYMENTS_ORDER_LIMIT_MINOR": "50000"])
            let channel = try SagaChannel()
            let customer = try await fleet.newCustomer()
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            let voided = UUID(), refunded = UUID(), poor = UUID(), big = UUID()
            let authorize = try await channel.send(AuthorizePayment(orderID: voided, customerID: customer.id, amount: Self.euros(2_500)))
            try await channel.resend(authorize, topic: .paymentsCommands)
            let again = try await channel.send(AuthorizePayment(orderID: voided, customerID: customer.id, amount: Self.euros(2_500)))
            try await channel.waitUntil("both authorizations answered") { _ in
                !channel.replies(causedBy: authorize.id).isEmpty && !channel.replies(causedBy: again.id).isEmpty
            }
            #expect(channel.replies(causedBy: authorize.id).map(\.type) == [PaymentAuthorizedReply.ceType], "one reply for one command id")
            #expect(channel.replies(causedBy: again.id).map(\.type) == [PaymentAuthorizedReply.ceType], "a new command id repeats the answer")
            #expect(try await fleet.walletBalance(of: customer) == 7_500)

            let void = try await channel.send(VoidPayment(orderID: voided, customerID: customer.id))
            let charge = try await channel.send(AuthorizePayment(orderID: refunded, customerID: customer.id, amount: Self.euros(1_000)))
            try await channel.waitUntil("void and second authorization answered") { _ in
                !channel.replies(causedBy: void.id).isEmpty && !channel.replies(causedBy: charge.id).isEmpty
            }
            let refund = try await channel.send(RefundPayment(orderID: refunded, customerID: customer.id))
            let insufficient = try await channel.send(AuthorizePayment(orderID: poor, customerID: customer.id, amount: Self.euros(20_000)))
            let overLimit = try await channel.send(AuthorizePayment(orderID: big, customerID: customer.id, amount: Self.euros(60_000)))
            try await channel.waitUntil("refund and declines answered") { _ in
                [refund, insufficient, overLimit].allSatisfy { !channel.replies(causedBy: $0.id).isEmpty }
            }
            #expect(try channel.replies(causedBy: void.id).first?.decode(PaymentVoidedReply.self).amount == Self.euros(2_500))
            #expect(channel.replies(causedBy: refund.id).map(\.type) == [PaymentRefundedReply.ceType])
            #expect(try channel.replies(causedBy: insufficient.id).first?.decode(PaymentDeclinedReply.self).reason == .insufficientFunds)
            #expect(try channel.replies(causedBy: overLimit.id).first?.decode(PaymentDeclinedReply.self).reason == .overLimit)
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            // A void that overtakes its authorization leaves a tombstone: the late
            // authorization is dead-lettered, never debited.
            let dlq = try SagaChannel(deadLettersOf: "payments")
            let early = UUID()
            let earlyVoid = try await channel.send(VoidPayment(orderID: early, customerID: customer.id))
            try await channel.waitUntil("the early void answered") { _ in !channel.replies(causedBy: earlyVoid.id).isEmpty }
            let late = try await channel.send(AuthorizePayment(orderID: early, customerID: customer.id, amount: Self.euros(500)))
            try await dlq.waitUntil("the late authorization is dead-lettered") { events in events.contains { $0.id == late.id } }
            #expect(channel.replies(causedBy: late.id).isEmpty)
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            // A refund with no authorized payment to refund is answered, refused (so the
            // CancelOrder saga ends instead of re-sending it), and moves nothing.
            let impossible = try await channel.send(RefundPayment(orderID: UUID(), customerID: customer.id))
            try await channel.waitUntil("the impossible refund answered") { _ in !channel.replies(causedBy: impossible.id).isEmpty }
            #expect(channel.replies(causedBy: impossible.id).map(\.type) == [PaymentRefundRefusedReply.ceType])
            #expect(try channel.replies(causedBy: impossible.id).first?.decode(PaymentRefundRefusedReply.self).reason == "no payment to refund")
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            // Faults through the admin endpoint: customers may not touch them; a decline rate
            // of 1 declines with injected_fault.
            let faults = #"{"decline_rate":1,"latency_ms":0}"#
            #expect(try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: customer.bearer, json: faults).status == 403)
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            #expect(try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"decline_rate":2}"#).status == 400)
            #expect(try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: faults).status == 200)
            let injected = try await channel.send(AuthorizePayment(orderID: UUID(), customerID: customer.id, amount: Self.euros(100)))
            try await channel.waitUntil("the injected decline") { _ in !channel.replies(causedBy: injected.id).isEmpty }
            #expect(try channel.replies(causedBy: injected.id).first?.decode(PaymentDeclinedReply.self).reason == .injectedFault)
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            // payments_commands_total: one count per handled command (the redelivered one is
            // the inbox's duplicate, not handled); committed outcomes are counted after the commit.
            let counted: [(command: String, outcome: String, count: Double)] = [
                ("authorize", "authorized", 2), ("authorize", "repeated", 1), ("authorize", "declined_insufficient_funds", 1),
                ("authorize", "declined_over_limit", 1), ("authorize", "declined_injected_fault", 1), ("authorize", "closed", 1),
                ("void", "returned", 1), ("void", "nothing_taken", 1), ("refund", "returned", 1), ("refund", "refused", 1),
            ]
            let payments = fleet.payments
            try await Poll.until("payments_commands_total counts each handled command once") {
                for (command, outcome, count) in counted {
                    let value = try await payments.metric("payments_commands_total", labels: [#"command="\#(command)""#, #"outcome="\#(outcome)""#])
                    guard value == count else { return false }
                }
                return try await payments.metric("payments_commands_total") == counted.map(\.count).reduce(0, +)
            }
            await dlq.close()
            await channel.close()
            try await fleet.stop()
        }

        @Test("an authorization ahead of user_registered opens the wallet once; a free order moves no money; a negative amount is dead-lettered")
        func walletsAndOddAmounts() async throws {
            let fleet = try await UsersAndPayments.start(payments: ["PAYMENTS_STARTING_BALANCE_MINOR": "10000"])
            let channel = try SagaChannel()
            let dlq = try SagaChannel(deadLettersOf: "payments")
            func balance(_ user: UUID) async throws -> Int64 {
                try await AdminDatabase.with { try await AdminDatabase.scalar("SELECT balance_minor FROM payments.accounts WHERE user_id = \(user)", on: $0) }
            }

            // A customer whose user_registered has not reached payments yet (here: never sent).
            let early = UUID(), paid = UUID()
            let authorize = try await channel.send(AuthorizePayment(orderID: paid, customerID: early, amount: Self.euros(2_500)))
            try await channel.waitUntil("the early customer's authorization answered") { _ in !channel.replies(causedBy: authorize.id).isEmpty }
            #expect(channel.replies(causedBy: authorize.id).map(\.type) == [PaymentAuthorizedReply.ceType], "not declined no_wallet")
            #expect(try await balance(early) == 7_500)

            // The event arrives late: the wallet exists, nothing is credited twice.
            let registered = try await channel.send(UserRegistered(userID: early, email: "late@example.org", displayName: "Late", registeredAt: Date()))
            try await Poll.until("payments handled the late user_registered") {
                try await AdminDatabase.with { client in
                    try await AdminDatabase.scalar("""
                        SELECT count(*) FROM payments.processed_messages WHERE consumer = 'payments' AND message_id = \(registered.id)
                        """, on: client)
                } == 1
            }
            #expect(try await balance(early) == 7_500)
            let openings = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'opening' AND reference = \("user:\(early.uuidString.lowercased())")
                    """, on: client)
            }
            #expect(openings == 1)

            // A free order: authorized and refunded without a ledger posting (a zero leg is
            // refused), so its partition is not blocked.
            let free = UUID()
            let authorizeFree = try await channel.send(AuthorizePayment(orderID: free, customerID: early, amount: Self.euros(0)))
            try await channel.waitUntil("the free order authorized") { _ in !channel.replies(causedBy: authorizeFree.id).isEmpty }
            let refundFree = try await channel.send(RefundPayment(orderID: free, customerID: early))
            try await channel.waitUntil("the free order refunded") { _ in !channel.replies(causedBy: refundFree.id).isEmpty }
            #expect(channel.replies(causedBy: authorizeFree.id).map(\.type) == [PaymentAuthorizedReply.ceType])
            #expect(channel.replies(causedBy: refundFree.id).map(\.type) == [PaymentRefundedReply.ceType])
            #expect(try await balance(early) == 7_500)

            // A negative amount would move money from the merchant to the customer: dead-lettered
            // with its reason, no reply, and the next command is handled.
            let negative = try await channel.send(AuthorizePayment(orderID: UUID(), customerID: early, amount: Self.euros(-500)))
            try await dlq.waitUntil("the negative authorization is dead-lettered") { events in events.contains { $0.id == negative.id } }
            let after = try await channel.send(RefundPayment(orderID: paid, customerID: early))
            try await channel.waitUntil("the refund after it answered") { _ in !channel.replies(causedBy: after.id).isEmpty }
            #expect(channel.replies(causedBy: negative.id).isEmpty)
            #expect(try await balance(early) == 10_000)
            #expect(try await fleet.payments.metric("payments_commands_total", labels: [#"command="authorize""#, #"outcome="malformed""#]) == 1)

            await dlq.close()
            await channel.close()
            try await fleet.stop()
        }

        @Test("1,000 random authorize/void/refund commands with duplicates keep every ledger invariant")
        func randomizedLedger() async throws {
            let fleet = try await UsersAndPayments.start(payments: ["PAYMENTS_STARTING_BALANCE_MINOR": "10000", "PAYMENTS_ORDER_LIMIT_MINOR": "6000"])
            let channel = try SagaChannel()
            let dlq = try SagaChannel(deadLettersOf: "payments")
            var customers: [Customer] = []
            for _ in 0..<4 { customers.append(try await fleet.newCustomer()) }
            for customer in customers { #expect(try await fleet.walletBalance(of: customer) == 10_000) }

            var generator = SystemRandomNumberGenerator()
            let orders = (0..<150).map { _ in (UUID(), customers.randomElement(using: &generator)!.id) }
            var batch: [(CloudEvent, Topic)] = []
            while batch.count < 1_000 {
                let (order, customer) = orders.randomElement(using: &generator)!
                let roll = Int.random(in: 0..<100, using: &generator)
                if roll < 10, let previous = batch.randomElement(using: &generator) {
                    batch.append(previous)  // the same command id again
                } else if roll < 60 {
                    let amount = Int64.random(in: 1...7_000, using: &generator)
                    batch.append((try CloudEvent(AuthorizePayment(orderID: order, customerID: customer, amount: Self.euros(amount)), source: "orders"), .paymentsCommands))
                } else if roll < 85 {
                    batch.append((try CloudEvent(VoidPayment(orderID: order, customerID: customer), source: "orders"), .paymentsCommands))
                } else {
                    batch.append((try CloudEvent(RefundPayment(orderID: order, customerID: customer), source: "orders"), .paymentsCommands))
                }
            }
            try await channel.sendAll(batch)
            let ids = Set(batch.map(\.0.id))
            let progress = BalanceHolder()
            do {
                try await Poll.until("payments settled all \(ids.count) distinct commands", deadline: .seconds(240)) {
                    // Settled = processed or dead-lettered. A command may be both: an
                    // authorization after its payment was voided is dead-lettered, and its
                    // redelivery (the same id again) is then a duplicate. So count the union,
                    // not the sum. (A refund with nothing to refund is answered, refused.)
                    let processed = try await AdminDatabase.with { client in
                        var found = Set<UUID>()
                        for try await id in try await client.query("""
                            SELECT message_id FROM payments.processed_messages WHERE consumer = 'payments' AND message_id = ANY(\(Array(ids)))
                            """).decode(UUID.self) { found.insert(id) }
                        return found
                    }
                    let settled = processed.union(dlq.events.map(\.id)).intersection(ids).count
                    progress.value = Int64(settled)
                    return settled == ids.count
                }
            } catch {
                let problems = fleet.payments.log.split(separator: "\n").filter { !$0.contains(#""level":"info""#) }.suffix(40)
                Issue.record("settled \(progress.value ?? 0) of \(ids.count); payments' recent warnings:\n\(problems.joined(separator: "\n"))")
                throw error
            }
            let customerIDs = customers.map(\.id)
            let orderIDs = orders.map(\.0)
            let violations = try await AdminDatabase.with { client in
                [
                    "unbalanced ledger transactions": try await AdminDatabase.scalar("""
                        SELECT count(*) FROM (SELECT transaction_id FROM payments.ledger_entries GROUP BY transaction_id HAVING sum(amount_minor) <> 0) t
                        """, on: client),
                    "wallets whose balance is not the sum of their entries": try await AdminDatabase.scalar("""
                        SELECT count(*) FROM payments.accounts a WHERE a.kind = 'wallet' AND (a.balance_minor IS NULL
                           OR a.balance_minor <> coalesce((SELECT sum(e.amount_minor) FROM payments.ledger_entries e WHERE e.account_id = a.id), 0))
                        """, on: client),
                    // Their balance is the sum of their entries (a stored one would be a hot row).
                    "system accounts with a stored balance": try await AdminDatabase.scalar(
                        "SELECT count(*) FROM payments.accounts WHERE kind <> 'wallet' AND balance_minor IS NOT NULL", on: client),
                    "merchant balance not what the test's payments hold": try await AdminDatabase.scalar("""
                        SELECT count(*) FROM payments.account_balances b WHERE b.kind = 'merchant' AND b.balance_minor <> coalesce(
                            (SELECT sum(p.amount_minor) FROM payments.payments p WHERE p.status = 'authorized' AND p.currency = b.currency), 0)
                        """, on: client),
                    "negative wallets": try await AdminDatabase.scalar(
                        "SELECT count(*) FROM payments.accounts WHERE kind = 'wallet' AND balance_minor < 0", on: client),
                    "test wallets not at 10000 minus their held authorizations": try await AdminDatabase.scalar("""
                        SELECT count(*) FROM payments.accounts a WHERE a.user_id = ANY(\(customerIDs)) AND a.balance_minor <> 10000 - coalesce(
                            (SELECT sum(p.amount_minor) FROM payments.payments p WHERE p.customer_id = a.user_id AND p.status = 'authorized'), 0)
                        """, on: client),
                    "orders whose ledger does not match their status": try await AdminDatabase.scalar("""
                        SELECT count(*) FROM payments.payments p,
                          LATERAL (SELECT count(*) FILTER (WHERE kind = 'authorization') AS auth, count(*) FILTER (WHERE kind = 'void') AS void,
                                          count(*) FILTER (WHERE kind = 'refund') AS refund
                                   FROM payments.ledger_transactions t WHERE t.reference = 'order:' || p.order_id::text) l
                        WHERE p.order_id = ANY(\(orderIDs)) AND NOT (
                               (p.status = 'authorized' AND l.auth = 1 AND l.void = 0 AND l.refund = 0)
                            OR (p.status = 'declined' AND l.auth = 0 AND l.void = 0 AND l.refund = 0)
                            OR (p.status = 'voided' AND p.amount_minor > 0 AND l.auth = 1 AND l.void = 1 AND l.refund = 0)
                            OR (p.status = 'voided' AND p.amount_minor = 0 AND l.auth = 0 AND l.void = 0 AND l.refund = 0)
                            OR (p.status = 'refunded' AND l.auth = 1 AND l.void = 0 AND l.refund = 1))
                        """, on: client),
                ]
            }
            for (name, count) in violations { #expect(count == 0, "\(name): \(count)") }
            let statuses = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("SELECT count(DISTINCT status) FROM payments.payments WHERE order_id = ANY(\(orderIDs))", on: client)
            }
            #expect(statuses >= 3, "the random run should reach several payment states")
            await dlq.close()
            await channel.close()
            try await fleet.stop()
        }

        @Test("a crash after committing an authorization, before its reply is published: after restart, one reply and one debit")
        func crashAfterCommit() async throws {
            var fleet = try await UsersAndPayments.start(payments: ["PAYMENTS_FAULT_CRASH_POINT": "after_commit_before_reply"])
            let channel = try SagaChannel()
            let customer = try await fleet.newCustomer()
            let opening = try await fleet.walletBalance(of: customer)
            let order = UUID()
            let command = try await channel.send(AuthorizePayment(orderID: order, customerID: customer.id, amount: Self.euros(1_234)))

            let exit = try await fleet.payments.waitForExit(deadline: .seconds(90))
            #expect(exit.status == 70, "payments should exit at the crash point")
            let (debits, unpublished) = try await AdminDatabase.with { client in
                (try await AdminDatabase.scalar("""
                    SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'authorization' AND reference = \("order:" + order.uuidString.lowercased())
                    """, on: client),
                 try await AdminDatabase.scalar("""
                    SELECT count(*) FROM payments.outbox WHERE message_key = \(order.uuidString.lowercased()) AND published_at IS NULL
                    """, on: client))
            }
            #expect(debits == 1, "the authorization committed before the crash")
            #expect(unpublished == 2, "its event and reply were still waiting in the outbox")
            #expect(channel.replies(causedBy: command.id).isEmpty)

            try await fleet.restartPayments()
            // A later command on the same key (so the same partition) marks the end of the
            // replies to look at.
            let marker = try await channel.send(AuthorizePayment(orderID: order, customerID: customer.id, amount: Self.euros(1_234)))
            try await channel.waitUntil("the marker's reply arrived") { _ in !channel.replies(causedBy: marker.id).isEmpty }
            #expect(channel.replies(causedBy: command.id).map(\.type) == [PaymentAuthorizedReply.ceType], "exactly one reply to the crashed command")
            #expect(try await fleet.walletBalance(of: customer) == opening - 1_234, "exactly one debit")

            // The other crash point, armed through the admin endpoint: exit before the commit;
            // nothing was kept, and the redelivered command is authorized once after restart.
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            let armed = try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"crash_point":"before_commit"}"#)
            #expect(armed.status == 200)
            let second = UUID()
            let uncommitted = try await channel.send(AuthorizePayment(orderID: second, customerID: customer.id, amount: Self.euros(766)))
            #expect(try await fleet.payments.waitForExit(deadline: .seconds(90)).status == 70)
            let kept = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("SELECT count(*) FROM payments.payments WHERE order_id = \(second)", on: client)
            }
            #expect(kept == 0, "nothing of the uncommitted authorization may remain")
            try await fleet.restartPayments()
            try await channel.waitUntil("the redelivered authorization answered") { _ in !channel.replies(causedBy: uncommitted.id).isEmpty }
            #expect(channel.replies(causedBy: uncommitted.id).map(\.type) == [PaymentAuthorizedReply.ceType])
            #expect(try await fleet.walletBalance(of: customer) == opening - 1_234 - 766)
            await channel.close()
            try await fleet.stop()
        }
    }
}
