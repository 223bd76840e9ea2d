import Foundation
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// payments' wallets over HTTP: opened from `user_registered` through Kafka, deposits
    /// made once per `Idempotency-Key`.
    @Suite("Wallets and deposits")
    struct WalletTests {
        @Test("registering opens a wallet with the starting balance; deposits are idempotent by key")
        func walletAndDeposits() async throws {
            let fleet = try await UsersAndPayments.start(payments: ["PAYMENTS_STARTING_BALANCE_MINOR": "10000"])
            let customer = try await fleet.newCustomer()
            #expect(try await fleet.walletBalance(of: customer) == 10_000)

            let key = "deposit-\(UUID().uuidString)"
            var headers = customer.bearer
            headers["Idempotency-Key"] = key
            let body = #"{"amount":{"amount_minor":2500,"currency":"EUR"}}"#
            let first = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: headers, json: body)
            #expect(first.status == 201)
            let again = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: headers, json: body)
            #expect(again.status == 201)
            #expect(again.header("Idempotent-Replayed") == "true")
            #expect(again.body == first.body)
            let different = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: headers,
                                                              json: #"{"amount":{"amount_minor":9999,"currency":"EUR"}}"#)
            #expect(different.status == 422)
            let missingKey = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: customer.bearer, json: body)
            #expect(missingKey.status == 400)
            let wrongCurrency = try await fleet.payments.request(
                "POST", "/api/v1/wallet/deposits", headers: customer.bearer.merging(["Idempotency-Key": UUID().uuidString]) { $1 },
                json: #"{"amount":{"amount_minor":100,"currency":"USD"}}"#
            )
            #expect(wrongCurrency.status == 422)

            // Eight concurrent requests with one fresh key: exactly one deposit; the others
            // are told the key is in flight (409) or get the stored answer (201 replayed).
            let concurrentKey = "deposit-\(UUID().uuidString)"
            let payments = fleet.payments
            let concurrentHeaders = customer.bearer.merging(["Idempotency-Key": concurrentKey]) { $1 }
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<8 {
                    group.addTask { try await payments.request("POST", "/api/v1/wallet/deposits", headers: concurrentHeaders, json: body).status }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { $0 == 201 || $0 == 409 }, "\(statuses)")
            #expect(statuses.contains(201))
            #expect(try await fleet.walletBalance(of: customer) == 10_000 + 2_500 + 2_500)
            let deposits = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    SELECT count(*) FROM payments.ledger_transactions WHERE kind = 'deposit' AND reference = \("deposit:" + concurrentKey)
                    """, on: client)
            }
            #expect(deposits == 1)

            let page = try await fleet.payments.request("GET", "/api/v1/wallet?limit=2", headers: customer.bearer)
            let entries = try #require(try page.json()["entries"] as? [String: Any])
            #expect((entries["data"] as? [Any])?.count == 2)
            #expect(entries["has_more"] as? Bool == true)
            let cursor = try #require(entries["next_cursor"] as? String)
            let next = try await fleet.payments.request("GET", "/api/v1/wallet?limit=2&cursor=\(cursor)", headers: customer.bearer)
            let rest = try #require(try next.json()["entries"] as? [String: Any])
            #expect((rest["data"] as? [Any])?.count == 1)
            #expect(try await fleet.payments.request("GET", "/api/v1/wallet?cursor=garbage", headers: customer.bearer).status == 400)

            // The generated stubs decode parameters and bodies before our code runs: each
            // refusal must still be a 400 problem naming the field.
            let keyed = customer.bearer.merging(["Idempotency-Key": UUID().uuidString]) { $1 }
            let refusals: [(String, String, [String: String], String?, String)] = [
                ("GET", "/api/v1/wallet?limit=abc", customer.bearer, nil, "limit"),
                ("POST", "/api/v1/wallet/deposits", customer.bearer, body, "Idempotency-Key"),
                ("POST", "/api/v1/wallet/deposits", customer.bearer.merging(["Idempotency-Key": "has space"]) { $1 }, body, "Idempotency-Key"),
                ("POST", "/api/v1/wallet/deposits", keyed, #"{"amount":{"amount_minor":"ten","currency":"EUR"}}"#, "amount.amount_minor"),
                ("POST", "/api/v1/wallet/deposits", keyed, #"{"amount":{"currency":"EUR"}}"#, "amount.amount_minor"),
            ]
            for (method, path, headers, json, field) in refusals {
                let refused = try await fleet.payments.request(method, path, headers: headers, json: json)
                #expect(refused.status == 400, "\(path) \(json ?? ""): \(refused.text)")
                #expect(refused.header("Content-Type") == "application/problem+json")
                #expect((try refused.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == field, "\(refused.text)")
            }

            // The key is the header as sent (`%` is allowed and not decoded), and the
            // fingerprint is over the decoded body: spacing and key order replay.
            for key in ["50%off-\(UUID().uuidString)", "60%off-\(UUID().uuidString)"] {
                let percent = customer.bearer.merging(["Idempotency-Key": key]) { $1 }
                let made = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: percent, json: #"{"amount":{"amount_minor":100,"currency":"EUR"}}"#)
                #expect(made.status == 201 && made.header("Idempotent-Replayed") == nil, "\(key): \(made.text)")
                let reordered = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: percent,
                                                                 json: #"{ "amount" : { "currency" : "EUR", "amount_minor" : 100 } }"#)
                #expect(reordered.status == 201 && reordered.header("Idempotent-Replayed") == "true", "\(reordered.text)")
            }
            let lowercase = try await fleet.payments.request("POST", "/api/v1/wallet/deposits", headers: keyed, json: #"{"amount":{"amount_minor":100,"currency":"eur"}}"#)
            #expect(lowercase.status == 400)
            #expect((try lowercase.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "amount.currency", "\(lowercase.text)")
            #expect(try await fleet.walletBalance(of: customer) == 10_000 + 2_500 + 2_500 + 100 + 100, "each %-key deposited once")

            // Fault switches: admin only; a `null` crash point reads as none armed.
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            #expect(try await fleet.payments.request("GET", "/api/v1/payments/faults", headers: customer.bearer).status == 403)
            let cleared = try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin,
                                                           json: #"{"decline_rate":0.25,"crash_point":null}"#)
            #expect(cleared.status == 200, "\(cleared.text)")
            #expect(try cleared.json()["decline_rate"] as? Double == 0.25)
            #expect(try cleared.json()["crash_point"] == nil)
            let outOfRange = try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"decline_rate":2}"#)
            #expect(outOfRange.status == 400)
            #expect((try outOfRange.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "decline_rate", "\(outOfRange.text)")
            #expect(try await fleet.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: "{}").status == 200)
            try await fleet.stop()
        }
    }
}
