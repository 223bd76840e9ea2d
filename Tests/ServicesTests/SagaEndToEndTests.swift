import Auth
import Contracts
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Logging
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// PlaceOrder and CancelOrder across four real processes over real Postgres, Redis and
    /// Tansu; after each test the invariants are checked in SQL.
    @Suite("Sagas end to end")
    struct SagaEndToEndTests {
        @Test("happy path: approved, wallet debited once, stock reduced, notification on the live stream")
        func happyPath() async throws {
            let fleet = try await SystemFleet.start()
            let customer = try await fleet.newCustomer("Happy")
            #expect(try await fleet.walletBalance(of: customer) == 10_000)
            // A second notifications instance serves the stream; whichever instance consumes
            // the event, Redis pub/sub brings it here.
            let second = try await fleet.core.startVerifying("notifications", extra: ["NOTIFICATIONS_HEARTBEAT_MS": "1000"])
            // The live stream goes through the gateway (which relays it as it arrives).
            let stream = EventStreamReader(url: URL(string: "http://127.0.0.1:\(fleet.gateway.port)/api/v1/notifications/stream")!,
                                           bearer: customer.accessToken)
            try await Poll.until("the stream is connected") { stream.text.contains(": connected") }
            let stockBefore = try await fleet.stock(of: SystemFleet.mug)

            let (_, id) = try await fleet.place(customer, [(SystemFleet.mug, 2)])
            let order = try await fleet.settled(id, for: customer)
            let steps = try await fleet.timeline(id, for: customer)
            #expect(order["status"] as? String == "approved", "timeline: \(steps)")
            #expect(try await fleet.walletBalance(of: customer) == 10_000 - 2 * 1_499)
            #expect(try await fleet.stock(of: SystemFleet.mug) == stockBefore - 2)
            try await Poll.until("order_approved arrives on the stream") { stream.events.contains { $0.contains("order_approved") && $0.contains(id) } }
            stream.close()
            // Resuming from the start replays what was stored, in order, welcome first.
            let resumed = EventStreamReader(url: URL(string: "http://127.0.0.1:\(second.port)/api/v1/notifications/stream")!,
                                            bearer: customer.accessToken, lastEventID: "0")
            try await Poll.until("the resumed stream replays the backlog") { resumed.events.contains { $0.contains("order_approved") } }
            #expect(resumed.events.first?.contains("welcome") == true)
            // SIGTERM with a stream still open: the stream ends and the process exits cleanly.
            let assignments = fleet.notifications.logCount("kafka partitions assigned")
            #expect(try await second.terminate() == 0)
            resumed.close()
            // The first instance takes the partitions back; stopping it mid-rebalance would
            // leave Tansu's group waiting for it (ADR 0006), stalling the next test.
            try await Poll.until("the first notifications instance owns the partitions again") {
                fleet.notifications.logCount("kafka partitions assigned") > assignments
            }
            let kinds = try await fleet.timeline(id, for: customer).compactMap { $0["kind"] as? String }
            #expect(kinds.first == "started" && kinds.last == "finished")
            try await SagaInvariants.check(orders: [id])
            // SIGTERM to the gateway with a stream still open through it: the stream ends and the gateway exits cleanly.
            let proxied = EventStreamReader(url: URL(string: "http://127.0.0.1:\(fleet.gateway.port)/api/v1/notifications/stream")!,
                                            bearer: customer.accessToken)
            defer { proxied.close() }
            try await Poll.until("the proxied stream is connected") { proxied.text.contains(": connected") }
            #expect(try await fleet.gateway.terminate() == 0)
            proxied.close()
            try await fleet.stop()
        }

        @Test("rejections: out of stock, unknown and suspended customers, insufficient funds, injected decline — compensated, money and stock back")
        func rejections() async throws {
            let fleet = try await SystemFleet.start()
            var ids: [String] = []
            var reasons: [String] = []
            func expectRejected(_ customer: Customer, _ items: [(String, Int)], _ reason: String, inTheAnswer: Bool = false) async throws {
                let before = try await fleet.stock(of: items[0].0)
                let (reply, id) = try await fleet.place(customer, items)
                ids.append(id)
                reasons.append(reason)
                if inTheAnswer {
                    // The stock step runs in the transaction that stores the order: the 202 already says so.
                    let answered = try reply.json()
                    #expect(answered["status"] as? String == "rejected" && answered["rejection_reason"] as? String == reason, "\(answered)")
                }
                let order = try await fleet.settled(id, for: customer)
                #expect(order["status"] as? String == "rejected", "\(reason): \(order)")
                let steps = try await fleet.timeline(id, for: customer)
                #expect(order["rejection_reason"] as? String == reason, "timeline: \(steps)")
                #expect(try await fleet.stock(of: items[0].0) == before, "\(reason): stock back")
            }

            let poor = try await fleet.newCustomer("Poor")
            _ = try await fleet.walletBalance(of: poor)
            try await expectRejected(poor, [(SystemFleet.tastingBox, 6)], "out_of_stock", inTheAnswer: true)
            try await expectRejected(poor, [(SystemFleet.ceremonySet, 1)], "insufficient_funds")
            #expect(try await fleet.walletBalance(of: poor) == 10_000)

            // A valid token for a user users never heard of.
            let keys = try #require(SigningKey.parseList(
                try String(contentsOfFile: try StackEnvironment.value("ORDERFLOW_JWT_SIGNING_KEYS_FILE"), encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)
            ))
            let ghostID = UUID()
            let ghost = Customer(id: ghostID, email: "ghost@example.org", password: "", accessToken: TokenForge(key: keys[0], subject: ghostID).signed(), refreshToken: "")
            try await expectRejected(ghost, [(SystemFleet.mug, 1)], "customer_unknown")

            // Suspended between the order's admission and its validation: the suspension API also
            // revokes every token the user holds (so a suspended user's new order is 401 below),
            // which leaves only this window for the saga's `customer_suspended` rejection. The test
            // opens it by marking the account in users' own table, leaving the token valid.
            let suspended = try await fleet.newCustomer("Suspended")
            let marked = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    WITH changed AS (UPDATE users.users SET status = 'suspended' WHERE id = \(suspended.id) RETURNING 1)
                    SELECT count(*) FROM changed
                    """, on: client)
            }
            #expect(marked == 1)
            try await expectRejected(suspended, [(SystemFleet.mug, 1)], "customer_suspended")
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            #expect(try await fleet.api.request("POST", "/api/v1/users/\(poor.id.uuidString.lowercased())/suspend", headers: admin).status == 200)
            let refused = try await fleet.api.request("POST", "/api/v1/orders", headers: poor.bearer.merging(["Idempotency-Key": UUID().uuidString]) { $1 },
                                                      json: #"{"items":[{"product_id":"\#(SystemFleet.mug)","quantity":1}]}"#)
            #expect(refused.status == 401, "an order from a user suspended through the API: \(refused.text)")

            let unlucky = try await fleet.newCustomer("Unlucky")
            _ = try await fleet.walletBalance(of: unlucky)
            #expect(try await fleet.api.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"decline_rate":1}"#).status == 200)
            try await expectRejected(unlucky, [(SystemFleet.mug, 1)], "payment_declined")
            #expect(try await fleet.api.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"decline_rate":0}"#).status == 200)
            #expect(try await fleet.walletBalance(of: unlucky) == 10_000)

            try await SagaInvariants.check(orders: ids)

            // The saga console (`make sagas`) shows the admin every one of them, and one timeline
            // step by step: the declined payment, then the stock released.
            let overview = try await SagaConsole.run(["--once", "--status", "rejected", "--limit", "100"], gateway: fleet.gateway.port)
            let summary = overview.split(separator: "\n").first { $0.contains("newest orders (rejected): ") }
            let counts = summary?.split(separator: ": ").dropFirst().first?.split(separator: ";").first
            #expect(counts?.wholeMatch(of: /\d+ rejected/) != nil, "only rejected orders are listed: \(summary.map(String.init) ?? overview)")
            for (id, reason) in zip(ids, reasons) {
                let line = overview.split(separator: "\n").first { $0.contains(id) }
                #expect(line?.contains("rejected") == true && line?.contains(reason) == true && line?.contains("place_order") == true,
                        "\(reason) order \(id) in the console: \(line.map(String.init) ?? "missing")\n\(overview)")
            }
            let declined = try #require(ids.last)
            let steps = try await SagaConsole.run(["--once", declined], gateway: fleet.gateway.port)
            for shown in ["rejected (payment_declined", "authorize_payment", "FAILED", "release_stock", "compensated"] {
                #expect(steps.contains(shown), "the declined order's timeline lacks \(shown): \(steps)")
            }
            try await webConsole(fleet, rejected: Array(zip(ids, reasons)), declined: declined)
            try await fleet.stop()
        }

        /// The saga console's pages (`make sagas-web`) on the same fleet: what they show, what they
        /// refuse, and the lab driving a compensation and a cancellation through the real system.
        private func webConsole(_ fleet: SystemFleet, rejected: [(id: String, reason: String)], declined: String) async throws {
            let web = try await SagaWebConsole.start(gateway: fleet.gateway.port)
            #expect(try await web.process.request("GET", "/").status == 401, "without the printed key's cookie")
            let overview = try await web.get("/?status=rejected&limit=100")
            #expect(overview.status == 200 && overview.header("Content-Security-Policy")?.contains("script-src 'self'") == true)
            for (id, reason) in rejected {
                let row = overview.text.components(separatedBy: "<tr").first { $0.contains(id) } ?? "missing"
                #expect(row.contains(">rejected<") && row.contains(">\(reason)<"), "\(reason) order \(id) on the page: \(row)")
            }
            let page = try await web.get("/orders/\(declined)").text
            for step in ["compensated\" title=\"reserve_stock", "done\" title=\"validate_customer", "failed\" title=\"authorize_payment",
                         "pending\" title=\"approve_order", "data-settled"] {
                #expect(page.contains(step), "the declined order's page lacks \(step): \(page)")
            }
            let fragment = try await web.get("/?fragment=1").text
            #expect(!fragment.contains("<html") && fragment.contains("<table class=\"sagas\">"), "the live part alone: \(fragment.prefix(300))")
            #expect(try await web.get("/orders/\(UUID().uuidString.lowercased())").status == 404)
            #expect(try await web.get("/?limit=1000").status == 400)

            // Nothing changes without the pages' form token; with it the lab sets faults as the admin.
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            let forged = try await web.post("/lab/faults", ["csrf": "forged", "decline_rate": "1"])
            #expect(forged.status == 403, "a forged form: \(forged.status)")
            let faults: @Sendable () async throws -> Double? = {
                try await fleet.api.request("GET", "/api/v1/payments/faults", headers: admin).json()["decline_rate"] as? Double
            }
            #expect(try await faults() == 0, "a forged form changed the faults")
            let token = try SagaWebConsole.formToken(try await web.get("/lab").text)
            let invalid = try await web.post("/lab/faults", ["csrf": token, "decline_rate": "2"]).text
            #expect(invalid.contains("notice error") && invalid.contains("decline_rate: must be between 0 and 1"),
                    "the API's field error on the lab page: \(invalid)")
            let armed = try await web.post("/lab/faults", ["csrf": token, "decline_rate": "1"]).text
            #expect(armed.contains("decline rate 1"), "the lab page after replacing the faults: \(armed)")
            #expect(try await faults() == 1)

            // An order placed in the lab is declined and compensated (its wallet open, and untouched);
            // with faults off, one is approved, then cancelled and refunded.
            let labDeclined = try await web.placeAndSettle(token: token, product: SystemFleet.mug)
            #expect(labDeclined.page.contains(">rejected<") && labDeclined.page.contains("payment_declined")
                    && labDeclined.page.contains("compensated\" title=\"reserve_stock"), "the lab's declined order: \(labDeclined.page)")
            let wallet = try await web.get("/lab").text
            #expect(wallet.contains("wallet 100.00 EUR"), "the lab's wallet after a declined order: \(wallet)")
            #expect(wallet.contains("class=\"part up\">payments<") && !wallet.contains("part down"), "the system's health on the lab page: \(wallet)")
            _ = try await web.post("/lab/faults", ["csrf": token, "decline_rate": "0"])
            #expect(try await faults() == 0)
            let approved = try await web.placeAndSettle(token: token, product: SystemFleet.mug)
            #expect(approved.page.contains(">approved<") && approved.page.contains("/cancel\""), "an approved lab order offers Cancel: \(approved.page)")
            #expect(try await web.post("/orders/\(declined)/cancel", ["csrf": token]).status == 403, "only the lab's own orders")
            _ = try await web.post("/orders/\(approved.id)/cancel", ["csrf": token])
            let cancelled = try await web.settledPage(approved.id)
            #expect(cancelled.contains(">cancelled<") && cancelled.contains("done\" title=\"refund_payment"), "the cancelled lab order: \(cancelled)")
            try await SagaInvariants.check(orders: [labDeclined.id, approved.id])
            _ = try await web.process.terminate()
        }

        @Test("cancel after approval refunds exactly once; a repeated POST with the same key is the same order, one saga")
        func cancelAndIdempotency() async throws {
            let fleet = try await SystemFleet.start()
            let customer = try await fleet.newCustomer("Canceller")
            _ = try await fleet.walletBalance(of: customer)
            let key = UUID().uuidString
            let (first, id) = try await fleet.place(customer, [(SystemFleet.mug, 1)], key: key)
            let (again, sameID) = try await fleet.place(customer, [(SystemFleet.mug, 1)], key: key)
            #expect(sameID == id)
            #expect(again.header("Idempotent-Replayed") == "true")
            #expect(first.header("Idempotent-Replayed") == nil)
            let other = try await fleet.api.request("POST", "/api/v1/orders", headers: customer.bearer.merging(["Idempotency-Key": key]) { $1 },
                                                       json: #"{"items":[{"product_id":"\#(SystemFleet.mug)","quantity":3}]}"#)
            #expect(other.status == 422)
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "approved")
            let sagas = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("SELECT count(*) FROM orders.saga_instances WHERE order_id = \(UUID(uuidString: id)!)", on: client)
            }
            #expect(sagas == 1)
            #expect(try await fleet.walletBalance(of: customer) == 10_000 - 1_499)

            let stranger = try await fleet.newCustomer("Stranger")
            #expect(try await fleet.api.request("POST", "/api/v1/orders/\(id)/cancel", headers: stranger.bearer).status == 404)
            #expect(try await fleet.api.request("GET", "/api/v1/orders/\(id)", headers: stranger.bearer).status == 404)
            let strangers = try await fleet.api.request("GET", "/api/v1/orders", headers: stranger.bearer)
            #expect((try strangers.json()["data"] as? [Any])?.isEmpty == true, "a customer sees only their own orders")
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            #expect(try await fleet.api.request("GET", "/api/v1/orders/\(id)", headers: admin).status == 200, "admins see every order")
            let approvedForAdmin = try await fleet.api.request("GET", "/api/v1/orders?status=approved&limit=100", headers: admin)
            #expect(((try approvedForAdmin.json()["data"] as? [[String: Any]]) ?? []).contains { $0["id"] as? String == id })
            let cancel = try await fleet.api.request("POST", "/api/v1/orders/\(id)/cancel", headers: customer.bearer)
            #expect(cancel.status == 202)
            #expect(try await fleet.api.request("POST", "/api/v1/orders/\(id)/cancel", headers: customer.bearer).status == 409)
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "cancelled")
            #expect(try await fleet.walletBalance(of: customer) == 10_000)
            let refunds = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'refund' AND reference = \("order:" + id)", on: client)
            }
            #expect(refunds == 1)
            // A reply for a saga orders never started is consumed and ignored, not dead-lettered.
            let channel = try SagaChannel()
            let straySaga = UUID()
            let stray = try await channel.send(PaymentAuthorizedReply(orderID: UUID(), paymentID: UUID(), amount: Money(amountMinor: 1, currency: "EUR")),
                                               correlationID: straySaga.uuidString.lowercased(), causationID: UUID().uuidString.lowercased())
            try await Poll.until("orders consumed the stray reply") {
                try await AdminDatabase.with { client in
                    try await AdminDatabase.scalar("""
                        SELECT count(*) FROM orders.processed_messages WHERE consumer = 'orders' AND message_id = \(stray.id)
                        """, on: client)
                } == 1
            }
            let ignored = fleet.orders.log.split(separator: "\n").filter { $0.contains("reply for an unknown saga ignored") && $0.contains(straySaga.uuidString) }
            #expect(ignored.count == 1, "logged once: \(ignored)")
            // Counted after its commit. Replies earlier tests left on the topic (payments' answers
            // to commands the tests sent themselves) may still be arriving: a new orders group
            // starts at the topic's beginning. So this one is at least counted.
            let orders = fleet.orders
            try await Poll.until("the stray reply is counted (after its commit)") { try await orders.metric("saga_replies_unknown_total") >= 1 }
            // A late duplicate of the finished PlaceOrder's authorization reply (a new message
            // id, so the inbox takes it): ignored, and the saga keeps its finished_at
            // (SagaInvariants checks it against the timeline's `finished` entry).
            let sagaReply = try await fleet.api.request("GET", "/api/v1/orders/\(id)/saga", headers: customer.bearer)
            let placeSaga = try #require((try sagaReply.json()["sagas"] as? [[String: Any]])?.first { $0["type"] as? String == "place_order" })
            let placeSteps = placeSaga["steps"] as? [[String: Any]] ?? []
            let authorizeCommand = try #require(SystemFleet.entries(placeSteps, "command_sent", of: "authorize_payment").first?["command_id"] as? String)
            let late = try await channel.send(PaymentAuthorizedReply(orderID: UUID(uuidString: id)!, paymentID: UUID(), amount: Money(amountMinor: 1_499, currency: "EUR")),
                                              correlationID: try #require(placeSaga["id"] as? String), causationID: authorizeCommand)
            try await Poll.until("orders consumed the late reply") {
                try await AdminDatabase.with { client in
                    try await AdminDatabase.scalar("""
                        SELECT count(*) FROM orders.processed_messages WHERE consumer = 'orders' AND message_id = \(late.id)
                        """, on: client)
                } == 1
            }
            await channel.close()

            try await SagaInvariants.check(orders: [id])
            try await fleet.checkSagaCounters(orders: [id])  // PlaceOrder and CancelOrder, both succeeded
            try await fleet.stop()
        }

        @Test("a refund payments refuses (damaged data: the payment is no longer authorized) ends the cancellation at once: the order is approved again, nothing moved")
        func refundRefused() async throws {
            let fleet = try await SystemFleet.start()
            let customer = try await fleet.newCustomer("Damaged")
            _ = try await fleet.walletBalance(of: customer)
            let (_, id) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "approved")
            let orderID = try #require(UUID(uuidString: id))
            // Damage the data as no flow does: payments forgets the authorization.
            let damaged = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    WITH damaged AS (UPDATE payments.payments SET status = 'voided' WHERE order_id = \(orderID) RETURNING 1) SELECT count(*) FROM damaged
                    """, on: client)
            }
            try #require(damaged == 1)
            let balance = try await fleet.walletBalance(of: customer)
            #expect(try await fleet.api.request("POST", "/api/v1/orders/\(id)/cancel", headers: customer.bearer).status == 202)
            // Refused, the refund is answered: the saga ends compensated instead of re-sending it.
            let holder = OrderHolder()
            let repair: @Sendable () async throws -> Void = {
                _ = try await AdminDatabase.with { client in
                    try await client.query("UPDATE payments.payments SET status = 'authorized' WHERE order_id = \(orderID)")
                }
            }
            do {
                try await Poll.until("the cancellation ends", deadline: .seconds(120)) {
                    let reply = try await fleet.api.request("GET", "/api/v1/orders/\(id)/saga", headers: customer.bearer)
                    let sagas = (try? reply.json()["sagas"] as? [[String: Any]]) ?? []
                    guard let cancel = sagas.first(where: { $0["type"] as? String == "cancel_order" }), cancel["phase"] as? String == "compensated" else { return false }
                    holder.value = cancel
                    return true
                }
            } catch {
                try await repair()  // leave no damage for the tests after this one
                throw error
            }
            let cancel = try #require(holder.value)
            let steps = cancel["steps"] as? [[String: Any]] ?? []
            #expect(steps.contains { $0["kind"] as? String == "step_failed" && $0["step"] as? String == "refund_payment"
                && ($0["detail"] as? String)?.hasPrefix("refund_refused: payment is voided") == true }, "\(steps)")
            #expect(steps.filter { $0["kind"] as? String == "command_sent" }.count == 1, "sent once, not re-sent: \(steps)")
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "approved")
            #expect(try await fleet.walletBalance(of: customer) == balance, "nothing refunded")
            // Repaired as an operator would, the order meets every invariant again.
            try await repair()
            try await SagaInvariants.check(orders: [id])
            try await fleet.checkSagaCounters(orders: [id])
            try await fleet.stop()
        }

        @Test("a step past the pivot fails (the order left `cancelling` while payments refunded): the saga halts there — the refund and the released stock stand, nothing is walked back — for an operator")
        func haltedPastPivot() async throws {
            let fleet = try await SystemFleet.start()
            let customer = try await fleet.newCustomer("Overridden")
            // The halted series exists from the start, at 0, so the first halt is an increase (an alert can fire).
            let before = try await fleet.orders.metricLines("sagas_finished_total{", labels: [#"saga="cancel_order""#, #"outcome="halted""#])
            #expect(before.count == 1 && before.first?.hasSuffix(" 0") == true, "\(before)")
            let (_, id) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "approved")
            #expect(try await fleet.walletBalance(of: customer) == 10_000 - 1_499)
            let orderID = try #require(UUID(uuidString: id))
            // With payments stopped the refund waits, and the order is moved out of `cancelling`
            // as no flow of this system does (an administrator's override, say).
            func cancelAndOverride() async throws -> (ServiceProcess.Reply, Int64) {
                fleet.payments.freeze()
                defer { fleet.payments.thaw() }
                let cancel = try await fleet.api.request("POST", "/api/v1/orders/\(id)/cancel", headers: customer.bearer)
                let overridden = try await AdminDatabase.with { client in
                    try await AdminDatabase.scalar("""
                        WITH moved AS (UPDATE orders.orders SET status = 'approved' WHERE id = \(orderID) AND status = 'cancelling' RETURNING 1)
                        SELECT count(*) FROM moved
                        """, on: client)
                }
                return (cancel, overridden)
            }
            let (cancel, overridden) = try await cancelAndOverride()
            #expect(cancel.status == 202)
            try #require(overridden == 1, "the order was not cancelling after the 202")
            let holder = OrderHolder()
            try await Poll.until("the cancellation halts", deadline: .seconds(120)) {
                let reply = try await fleet.api.request("GET", "/api/v1/orders/\(id)/saga", headers: customer.bearer)
                let sagas = (try? reply.json()["sagas"] as? [[String: Any]]) ?? []
                guard let cancel = sagas.first(where: { $0["type"] as? String == "cancel_order" }), cancel["finished_at"] is String else { return false }
                holder.value = cancel
                return true
            }
            let saga = try #require(holder.value)
            #expect(saga["phase"] as? String == "halted", "\(saga)")
            let steps = saga["steps"] as? [[String: Any]] ?? []
            for done in ["refund_payment", "release_stock"] {
                #expect(SystemFleet.entries(steps, "step_succeeded", of: done).count == 1, "\(done): \(steps)")
            }
            #expect(SystemFleet.entries(steps, "step_failed", of: "mark_cancelled").first?["detail"] as? String == "order is no longer being cancelled")
            let finished = steps.last { $0["kind"] as? String == "finished" }?["detail"] as? String ?? ""
            #expect(finished.hasPrefix("halted at mark_cancelled:") && finished.contains("past the pivot refund_payment"), "\(steps)")
            #expect(!steps.contains { ["compensation_sent", "compensated"].contains($0["kind"] as? String ?? "") }, "nothing is walked back: \(steps)")
            // The saga left the order as the override put it; the refund happened once, the stock came back.
            #expect(try await fleet.settled(id, for: customer)["status"] as? String == "approved")
            #expect(try await fleet.walletBalance(of: customer) == 10_000)
            let (refunds, held) = try await AdminDatabase.with { client in
                (try await AdminDatabase.scalar("SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'refund' AND reference = \("order:" + id)", on: client),
                 try await AdminDatabase.scalar("SELECT count(*) FROM orders.stock_reservations WHERE order_id = \(orderID) AND released_at IS NULL", on: client))
            }
            #expect(refunds == 1)
            #expect(held == 0)
            #expect(fleet.orders.log.contains("saga halted at or past its pivot"), "logged for an operator")
            // Settled as an operator would (refunded and restocked: cancelled), every invariant holds.
            _ = try await AdminDatabase.with { client in
                try await client.query("UPDATE orders.orders SET status = 'cancelled' WHERE id = \(orderID)")
            }
            try await SagaInvariants.check(orders: [id])
            try await fleet.checkSagaCounters(orders: [id])  // PlaceOrder succeeded, CancelOrder halted
            try await fleet.stop()
        }

        @Test("payments killed mid-saga: the step times out and retries; back in time the saga finishes, too late it compensates — never both")
        func participantDown() async throws {
            var fleet = try await SystemFleet.start(orders: ["SAGA_STEP_TIMEOUT_MS": "3000", "SAGA_STEP_ATTEMPTS": "3"])
            let customer = try await fleet.newCustomer("Patient")
            _ = try await fleet.walletBalance(of: customer)

            // A step's wait starts when its command is written, not when its transaction began:
            // the order's transaction waits on the mug's row, which the test holds. users is
            // frozen, so validate_customer's deadline is still the one that transaction wrote
            // when the test reads it.
            let delayed = try await placeBehindLock(fleet, customer)
            #expect(delayed.deadline.timeIntervalSince(delayed.released) >= 2.999, """
                validate_customer's deadline \(delayed.deadline) is less than its 3 s wait after the row was released at \(delayed.released)
                """)
            #expect(try await fleet.settled(delayed.order, for: customer)["status"] as? String == "approved")

            // Back within the retry budget (3 s + 6 s + 12 s): approved, charged once.
            try await fleet.payments.crash()
            let (_, retried) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            let watched = fleet
            try await Poll.until("authorize_payment timed out and was retried") {
                !SystemFleet.entries(try await watched.timeline(retried, for: customer), "retried", of: "authorize_payment").isEmpty
            }
            try await fleet.restartPayments()
            #expect(try await fleet.settled(retried, for: customer)["status"] as? String == "approved")

            // Down beyond the budget: the saga voids (the void waits for payments too), then
            // rejects; when payments returns it authorizes and voids in order: net zero.
            try await fleet.payments.crash()
            let (_, abandoned) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            let watching = fleet
            try await Poll.until("the saga gave up on authorize_payment and sent void_payment", deadline: .seconds(90)) {
                !SystemFleet.entries(try await watching.timeline(abandoned, for: customer), "compensation_sent", of: "void_payment").isEmpty
            }
            try await fleet.restartPayments()
            let order = try await fleet.settled(abandoned, for: customer)
            #expect(order["status"] as? String == "rejected")
            #expect(order["rejection_reason"] as? String == "timed_out")
            #expect(try await fleet.walletBalance(of: customer) == 10_000 - 2 * 1_499)  // the delayed order and the retried one
            try await SagaInvariants.check(orders: [delayed.order, retried, abandoned])
            try await fleet.checkSagaCounters(orders: [delayed.order, retried, abandoned])  // two succeeded, one compensated by the deadline scan
            // Their run times, by the database's clock: the retried saga waited out one 3 s attempt,
            // the abandoned one three (3 + 6 + 12 s) before its void.
            let placeOrder = #"saga="place_order""#
            let succeededFor = try await fleet.orders.metric("saga_duration_seconds_sum", labels: [placeOrder, #"outcome="succeeded""#])
            let compensatedFor = try await fleet.orders.metric("saga_duration_seconds_sum", labels: [placeOrder, #"outcome="compensated""#])
            #expect(succeededFor >= 3 && compensatedFor >= 21, "saga_duration_seconds_sum: succeeded \(succeededFor) s, compensated \(compensatedFor) s")
            // The histogram has orders' own buckets (up to an hour), not the library's default (up to 10 s).
            let buckets = try await fleet.orders.metricLines("saga_duration_seconds_bucket{")
            #expect(buckets.contains { $0.contains(#"le="3600"#) } && buckets.contains { $0.contains(#"le="0.01"#) }, "\(buckets.prefix(20))")
            try await fleet.stop()
        }

        /// Places an order while the test holds the mug's row, with users frozen, and releases
        /// the row once the order's transaction waits for it — half a second later, so that a
        /// deadline counted from that transaction's start would fall visibly short. Returns the
        /// order, when the row was released (by the database's clock), and the deadline its saga
        /// wrote for validate_customer, read before users is let go.
        private func placeBehindLock(_ fleet: SystemFleet, _ customer: Customer) async throws -> (order: String, released: Date, deadline: Date) {
            let logger = Logger(label: "saga-deadline-test")
            let mug = try #require(UUID(uuidString: SystemFleet.mug))
            // orders loads users' keys on its first token: before users stops answering.
            let listed = try await fleet.api.request("GET", "/api/v1/orders", headers: customer.bearer)
            try #require(listed.status == 200, "\(listed.status) \(listed.text)")
            fleet.users.freeze()
            defer { fleet.users.thaw() }
            let (released, placing) = try await AdminDatabase.with { client in
                try await client.withTransaction(logger: logger) { connection -> (Date, Task<(ServiceProcess.Reply, String), any Error>) in
                    var holder: Int32 = 0
                    for try await (pid,) in try await connection.query("""
                        SELECT pg_backend_pid() FROM orders.products WHERE id = \(mug) FOR UPDATE
                        """, logger: logger).decode((Int32,).self) { holder = pid }
                    let blocker = holder
                    let placing = Task { try await fleet.place(customer, [(SystemFleet.mug, 1)]) }
                    try await Poll.until("the order's transaction waits for the mug's row") {
                        try await AdminDatabase.with { other in
                            try await AdminDatabase.scalar("""
                                SELECT count(*) FROM pg_stat_activity WHERE \(blocker) = ANY(pg_blocking_pids(pid))
                                """, on: other)
                        } >= 1
                    }
                    try await Task.sleep(for: .milliseconds(500))
                    for try await (now,) in try await connection.query("SELECT clock_timestamp()", logger: logger).decode((Date,).self) { return (now, placing) }
                    throw AdminDatabase.Missing()
                }
            }
            let (_, order) = try await placing.value
            let orderID = try #require(UUID(uuidString: order))
            let deadline = try await AdminDatabase.with { client -> Date in
                for try await (phase, deadline) in try await client.query("""
                    SELECT phase, deadline FROM orders.saga_instances WHERE order_id = \(orderID)
                    """).decode((String, Date?).self) {
                    try #require(phase == "forward:1", "the saga should wait for validate_customer while users is frozen, but is at \(phase)")
                    return try #require(deadline)
                }
                throw AdminDatabase.Missing()
            }
            return (order, released, deadline)
        }

        @Test("a saga that cannot take input is postponed and counted at its deadline, and a reply for it is dead-lettered; the sagas and replies after it go on")
        func poisonedDeadline() async throws {
            var fleet = try await SystemFleet.start(orders: ["SAGA_STEP_TIMEOUT_MS": "1000", "SAGA_STEP_ATTEMPTS": "5", "SAGA_DEADLINE_SCAN_MS": "50"])
            let customer = try await fleet.newCustomer("Poisoned")
            _ = try await fleet.walletBalance(of: customer)
            // Two finished sagas spoiled (as after a bad deploy) and due an hour ago: the oldest
            // deadlines, which the scan takes first. One is unreadable; the other waits in a
            // step its definition does not have (written by a release with more steps).
            let (_, spoiled) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            let (_, stepless) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            #expect(try await fleet.settled(spoiled, for: customer)["status"] as? String == "approved")
            #expect(try await fleet.settled(stepless, for: customer)["status"] as? String == "approved")
            let spoiledOrder = try #require(UUID(uuidString: spoiled)), steplessOrder = try #require(UUID(uuidString: stepless))
            let phaseNine = #"{"phase": {"forward": {"step": 9, "attempt": 1}}, "awaitedCommandID": "\#(UUID().uuidString)"}"#
            let spoiledSaga = try await AdminDatabase.with { client in
                _ = try await client.query("""
                    UPDATE orders.saga_instances SET state = '{"unreadable": true}'::jsonb, deadline = now() - interval '1 hour'
                    WHERE order_id = \(spoiledOrder)
                    """)
                _ = try await client.query("""
                    UPDATE orders.saga_instances SET state = \(phaseNine)::jsonb, deadline = now() - interval '1 hour'
                    WHERE order_id = \(steplessOrder)
                    """)
                var saga: UUID?
                for try await id in try await client.query("SELECT id FROM orders.saga_instances WHERE order_id = \(spoiledOrder)").decode(UUID.self) { saga = id }
                return try #require(saga)
            }
            // Leave nothing due behind for the next tests' orders processes, whatever happens here.
            @Sendable func disarm() async throws {
                try await AdminDatabase.with { client in
                    _ = try await client.query("UPDATE orders.saga_instances SET deadline = NULL WHERE order_id IN (\(spoiledOrder), \(steplessOrder))")
                }
            }
            try await fleet.payments.crash()
            let (_, waiting) = try await fleet.place(customer, [(SystemFleet.mug, 1)])
            let watched = fleet
            do {
                try await Poll.until("the waiting saga's authorization timed out (its deadline was handled)") {
                    !SystemFleet.entries(try await watched.timeline(waiting, for: customer), "timed_out", of: "authorize_payment").isEmpty
                }
            } catch {
                try await disarm()
                try await fleet.restartPayments()
                throw error
            }
            let orders = fleet.orders
            try await Poll.until("both spoiled sagas' failures are counted") { try await orders.metric("saga_deadline_failures_total") >= 2 }
            #expect(orders.isRunning, "orders survived a phase its definition does not have")
            let postponed = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.saga_instances
                    WHERE order_id IN (\(spoiledOrder), \(steplessOrder)) AND deadline > now() + interval '30 seconds'
                    """, on: client)
            }
            #expect(postponed == 2, "the spoiled sagas' deadlines moved a backoff ahead")
            #expect(fleet.orders.log.contains("saga deadline failed; postponed so the others go on"))

            // A reply for the unreadable saga is dead-lettered with its reason, instead of being
            // retried for ever at the head of its partition with every reply behind it waiting.
            let channel = try SagaChannel(), dlq = try SagaChannel(deadLettersOf: "orders")
            let stray = try await channel.send(
                PaymentVoidedReply(orderID: spoiledOrder, paymentID: nil, amount: Money(amountMinor: 0, currency: "EUR")),
                correlationID: spoiledSaga.uuidString.lowercased(), causationID: UUID().uuidString.lowercased()
            )
            try await dlq.waitUntil("the reply for the unreadable saga is dead-lettered") { events in events.contains { $0.id == stray.id } }
            #expect(fleet.orders.log.contains("cannot take this reply"))
            await channel.close()
            await dlq.close()
            try await fleet.restartPayments()
            #expect(try await fleet.settled(waiting, for: customer)["status"] as? String == "approved")
            try await disarm()
            try await SagaInvariants.check(orders: [waiting])
            try await fleet.stop()
        }

        @Test("two orders instances share the deadline scan (FOR UPDATE SKIP LOCKED): both feed deadlines, none is fed twice, every saga finishes")
        func twoDeadlineScanners() async throws {
            // Short timeouts and a fast scan on both instances, so that they race for due sagas.
            let timing = ["SAGA_STEP_TIMEOUT_MS": "1000", "SAGA_STEP_ATTEMPTS": "2", "SAGA_DEADLINE_SCAN_MS": "50"]
            var fleet = try await SystemFleet.start(orders: timing)
            let second = try await fleet.core.startVerifying("orders", extra: timing)
            let customer = try await fleet.newCustomer("Raced")
            _ = try await fleet.walletBalance(of: customer)

            // With payments down every authorization times out twice, then its void times out
            // until payments returns: several deadlines per saga, all in the shared database.
            try await fleet.payments.crash()
            var orders: [String] = []
            for _ in 0..<8 { orders.append(try await fleet.place(customer, [(SystemFleet.mug, 1)]).1) }
            let placed = orders, watched = fleet
            try await Poll.until("every saga's void timed out at least once", deadline: .seconds(120)) {
                for id in placed {
                    let steps = try await watched.timeline(id, for: customer)
                    guard !SystemFleet.entries(steps, "timed_out", of: "void_payment").isEmpty else { return false }
                }
                return true
            }
            try await fleet.restartPayments()
            for id in placed {
                let order = try await fleet.settled(id, for: customer)
                #expect(order["status"] as? String == "rejected" && order["rejection_reason"] as? String == "timed_out", "\(order)")
                let steps = try await fleet.timeline(id, for: customer)
                let authorizationTimeouts = SystemFleet.entries(steps, "timed_out", of: "authorize_payment")
                #expect(authorizationTimeouts.count == 2, "\(id): both attempts timed out: \(steps)")
                // A deadline fed a second time (by a scanner that read the saga before the other
                // committed) passes as the *next* attempt's timeout, since a retry keeps its
                // command id: that timeout then comes right after its send, not a wait later.
                for early in try Self.earlyTimeouts(steps, base: .milliseconds(1000)) {
                    Issue.record("\(id): \(early)")
                }
            }
            let fed = (first: try await fleet.orders.metric("saga_deadlines_handled_total"), second: try await second.metric("saga_deadlines_handled_total"))
            #expect(fed.first > 0 && fed.second > 0, "both instances fed deadlines: \(fed)")
            #expect(fed.first + fed.second >= Double(3 * placed.count), "two authorization timeouts and a void's per saga at least: \(fed)")
            try await SagaInvariants.check(orders: placed)
            // The first instance takes the partitions back before it stops too: stopped while
            // Tansu holds its JoinGroup, it would leave the group stalled for the next test (ADR 0006).
            let assignments = fleet.orders.logCount("kafka partitions assigned")
            _ = try await second.terminate()
            let first = fleet.orders
            try await Poll.until("the first orders instance owns every partition again", deadline: .seconds(90)) {
                first.logCount("kafka partitions assigned") > assignments
            }
            try await fleet.stop()
        }

        /// The timeouts of a timeline that came less than half their attempt's wait after the
        /// entry that sent it: the wait of attempt n is `base` doubled n − 1 times
        /// (``SagaRetryPolicy``; the cap of 60 s is not reached here). Half, because the
        /// timestamps are not the deadline's own: an entry is stamped when its statement runs
        /// (`clock_timestamp()`), after the deadline was computed, so a correct timeout can
        /// measure a few milliseconds short; a repeated feed measures milliseconds in all.
        static func earlyTimeouts(_ steps: [[String: Any]], base: Duration) throws -> [String] {
            let format = ISO8601DateFormatter()
            format.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
            var sent: [String: Date] = [:]
            var early: [String] = []
            for entry in steps {
                let kind = entry["kind"] as? String ?? "", key = "\(entry["step"] ?? "") attempt \(entry["attempt"] ?? "")"
                let at = try #require((entry["at"] as? String).flatMap(format.date(from:)), "\(entry)")
                switch kind {
                case "command_sent", "retried", "compensation_sent", "local_run": sent[key] = at
                case "timed_out":
                    let attempt = entry["attempt"] as? Int ?? 1
                    let wait = base / .seconds(1) * Double(1 << (attempt - 1))
                    guard let start = sent[key] else { early.append("\(key) timed out, never sent"); continue }
                    if at.timeIntervalSince(start) < wait / 2 { early.append("\(key) timed out \(at.timeIntervalSince(start)) s after its send, wait \(wait) s") }
                default: break
                }
            }
            return early
        }
    }
}

/// `deploy/demo/sagas.py`, the saga console, run against a test fleet's gateway as the admin.
enum SagaConsole {
    /// What the console printed for `arguments`; throws when it exits non-zero.
    static func run(_ arguments: [String], gateway port: Int) async throws -> String {
        let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("sagas-\(UUID().uuidString).txt").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        do {
            let stackDir = try StackEnvironment.value("ORDERFLOW_STACK_DIR")  // the admin's credentials: this stack's
        try await Script.run(["python3", "\(root)/deploy/demo/sagas.py", "--gateway", "http://127.0.0.1:\(port)", "--stack-dir", stackDir] + arguments,
                                 deadline: .seconds(60), outputFile: output, errorsToOutput: true)
        } catch {
            throw Failed(reason: "\(error)", output: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
        return try String(contentsOfFile: output, encoding: .utf8)
    }

    struct Failed: Error, CustomStringConvertible {
        let reason: String
        let output: String
        var description: String { "the saga console failed (\(reason)): \(output)" }
    }
}
