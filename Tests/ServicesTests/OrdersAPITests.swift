import Foundation
import TestSupport
import Testing

extension LiveServices {
    /// The orders API served by the stubs generated from the contract's `orders` tag, against a
    /// real orders process (users issues the tokens): the behaviours the hand-written routes had
    /// and the generated layer would change without the shared glue.
    @Suite("Orders API (generated stubs)")
    struct OrdersAPITests {
        static let mug = "0193a000-0000-7000-8000-000000000003"

        /// A JSON value as text with sorted keys, for comparing decoded answers.
        static func canonical(_ value: Any?) throws -> String {
            String(decoding: try JSONSerialization.data(withJSONObject: [value ?? NSNull()], options: [.sortedKeys]), as: UTF8.self)
        }

        @Test("catalogue, placing with an idempotency key, reading, and every error as a problem naming its field")
        func placeAndRead() async throws {
            let core = try await UsersAndPayments.start()
            let orders = try await core.startVerifying("orders")
            let ada = try await core.newCustomer("Ada")
            let bob = try await core.newCustomer("Bob")

            // The catalogue is public, paginated by SKU, and its cursor leads on.
            let first = try await orders.request("GET", "/api/v1/products?limit=2")
            #expect(first.status == 200, "\(first.text)")
            #expect(first.header("Content-Type") == "application/json; charset=utf-8")
            let products = try #require(try first.json()["data"] as? [[String: Any]])
            #expect(products.count == 2)
            let cursor = try #require(try first.json()["next_cursor"] as? String)
            let second = try await orders.request("GET", "/api/v1/products?limit=2&cursor=\(cursor)")
            #expect(second.status == 200, "\(second.text)")
            let next = try #require(try second.json()["data"] as? [[String: Any]])
            #expect(!next.isEmpty, "the seeded catalogue has more than two products")
            #expect(Set(next.compactMap { $0["sku"] as? String }).isDisjoint(with: products.compactMap { $0["sku"] as? String }))

            // Placing: 202, a `Location` exactly as written (the generated serializer would
            // percent-encode it), the client's request id once.
            let key = "order-50%off-\(UUID().uuidString.prefix(8))"
            let body = #"{"items":[{"product_id":"\#(Self.mug)","quantity":2}]}"#
            let placed = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": key, "X-Request-ID": "place-1"]) { $1 }, json: body)
            #expect(placed.status == 202, "\(placed.text)")
            let order = try placed.json()
            let id = try #require(order["id"] as? String)
            #expect(order["status"] as? String == "pending" || order["status"] as? String == "approved")
            #expect(placed.header("Location") == "/api/v1/orders/\(id)")
            #expect(placed.header("X-Request-ID") == "place-1")
            #expect(placed.header("Idempotent-Replayed") == nil)
            #expect((order["created_at"] as? String)?.contains(".") == true, "fractional seconds are kept: \(order)")

            // The same key with the same body, re-spaced and reordered: the same order, replayed.
            let reordered = #"{ "items" : [ { "quantity" : 2, "product_id" : "\#(Self.mug)" } ] }"#
            let again = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": key]) { $1 }, json: reordered)
            #expect(again.status == 202, "\(again.text)")
            #expect(try again.json()["id"] as? String == id)
            #expect(again.header("Idempotent-Replayed") == "true")
            // Another body: 422. Another customer with the same key: their own order.
            let other = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": key]) { $1 },
                                                 json: #"{"items":[{"product_id":"\#(Self.mug)","quantity":3}]}"#)
            #expect(other.status == 422, "\(other.text)")
            #expect(try other.json()["type"] as? String == "/problems/idempotency-key-reused")
            let bobs = try await orders.request("POST", "/api/v1/orders", headers: bob.bearer.merging(["Idempotency-Key": key]) { $1 }, json: body)
            #expect(bobs.status == 202, "\(bobs.text)")
            #expect(try bobs.json()["id"] as? String != id)
            // "50%off" and "50%25off" are two keys, each its own order.
            let twin = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": key.replacingOccurrences(of: "%", with: "%25")]) { $1 }, json: body)
            #expect(twin.status == 202 && twin.header("Idempotent-Replayed") == nil, "\(twin.text)")
            #expect(try twin.json()["id"] as? String != id)

            // Reading: the owner sees it, another customer does not, a non-UUID names the field.
            let shown = try await orders.request("GET", "/api/v1/orders/\(id)", headers: ada.bearer)
            #expect(shown.status == 200)
            #expect(try shown.json()["id"] as? String == id)
            // The answer to POST is the order as stored (lines by product id), as a read returns it.
            let pair = #"{"items":[{"product_id":"0193a000-0000-7000-8000-000000000008","quantity":1},{"product_id":"\#(Self.mug)","quantity":2}]}"#
            let placedPair = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": UUID().uuidString]) { $1 }, json: pair)
            #expect(placedPair.status == 202, "\(placedPair.text)")
            let answered = try placedPair.json()
            let pairID = try #require(answered["id"] as? String)
            let read = try await orders.request("GET", "/api/v1/orders/\(pairID)", headers: ada.bearer).json()
            #expect((answered["items"] as? [[String: Any]])?.compactMap { $0["product_id"] as? String } == [Self.mug, "0193a000-0000-7000-8000-000000000008"])
            for field in ["id", "customer_id", "total", "items", "created_at"] {
                #expect(try Self.canonical(answered[field]) == Self.canonical(read[field]), "\(field): \(answered) against \(read)")
            }
            let hidden = try await orders.request("GET", "/api/v1/orders/\(id)", headers: bob.bearer)
            #expect(hidden.status == 404)
            #expect(try hidden.json()["type"] as? String == "/problems/not-found")
            for path in ["/api/v1/orders/nope", "/api/v1/orders/nope/saga"] {
                let malformed = try await orders.request("GET", path, headers: ada.bearer)
                #expect(malformed.status == 400, "\(path): \(malformed.text)")
                #expect((try malformed.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "id", "\(path): \(malformed.text)")
            }
            let timeline = try await orders.request("GET", "/api/v1/orders/\(id)/saga", headers: ada.bearer)
            #expect(timeline.status == 200)
            #expect((try timeline.json()["sagas"] as? [[String: Any]])?.first?["type"] as? String == "place_order", "\(timeline.text)")
            let listed = try await orders.request("GET", "/api/v1/orders?limit=10", headers: ada.bearer)
            let mine = try #require(try listed.json()["data"] as? [[String: Any]])
            #expect(Set(mine.compactMap { $0["id"] as? String }).contains(id))
            #expect(mine.allSatisfy { $0["customer_id"] as? String == ada.id.uuidString.lowercased() }, "a customer lists only their own orders")
            let admin = ["Authorization": "Bearer \(try await core.adminToken())"]
            #expect(try await orders.request("GET", "/api/v1/orders/\(id)", headers: admin).status == 200, "admins see every order")
            let everyone = try await orders.request("GET", "/api/v1/orders?limit=100", headers: admin)
            #expect(Set(((try everyone.json()["data"] as? [[String: Any]]) ?? []).compactMap { $0["customer_id"] as? String })
                .isSuperset(of: [ada.id.uuidString.lowercased(), bob.id.uuidString.lowercased()]), "admins list every customer's orders")
            #expect(mine.allSatisfy { $0["sagas"] == nil }, "sagas only when asked for: \(listed.text)")

            // `include=sagas`: each order with its sagas, as `/saga` gives them. Sagas are still
            // running, so the list's timeline must be a prefix of a read made after it.
            let withSagas = try await orders.request("GET", "/api/v1/orders?limit=10&include=sagas", headers: ada.bearer)
            #expect(withSagas.status == 200, "\(withSagas.text)")
            let mineWithSagas = try #require(try withSagas.json()["data"] as? [[String: Any]])
            #expect(mineWithSagas.compactMap { $0["id"] as? String } == mine.compactMap { $0["id"] as? String })
            for listedOrder in mineWithSagas {
                let orderID = try #require(listedOrder["id"] as? String)
                let listedSagas = try #require(listedOrder["sagas"] as? [[String: Any]], "\(listedOrder)")
                let later = try await orders.request("GET", "/api/v1/orders/\(orderID)/saga", headers: ada.bearer)
                let laterSagas = try #require(try later.json()["sagas"] as? [[String: Any]])
                #expect(!listedSagas.isEmpty, "an order's saga starts with it: \(listedOrder)")
                #expect(listedSagas.count <= laterSagas.count)
                for (listedSaga, laterSaga) in zip(listedSagas, laterSagas) {
                    #expect(listedSaga["id"] as? String == laterSaga["id"] as? String && listedSaga["type"] as? String == laterSaga["type"] as? String)
                    let listedSteps = try (listedSaga["steps"] as? [Any] ?? []).map(Self.canonical)
                    let laterSteps = try (laterSaga["steps"] as? [Any] ?? []).map(Self.canonical)
                    #expect(!listedSteps.isEmpty && laterSteps.starts(with: listedSteps), "\(orderID): \(listedSteps) against \(laterSteps)")
                }
            }
            // Bob's page holds his order's sagas and none of Ada's.
            let bobsWithSagas = try await orders.request("GET", "/api/v1/orders?limit=100&include=sagas", headers: bob.bearer)
            #expect(bobsWithSagas.status == 200, "\(bobsWithSagas.text)")
            let bobsOrders = try #require(try bobsWithSagas.json()["data"] as? [[String: Any]])
            #expect(bobsOrders.compactMap { $0["id"] as? String } == [try #require(try bobs.json()["id"] as? String)], "\(bobsWithSagas.text)")
            let sagaIDs = { (orders: [[String: Any]]) in Set(orders.flatMap { ($0["sagas"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String } }) }
            #expect(!sagaIDs(bobsOrders).isEmpty && sagaIDs(bobsOrders).isDisjoint(with: sagaIDs(mineWithSagas)), "\(bobsWithSagas.text)")

            // Bad requests, each a 400 problem naming the field.
            let invalid: [(String, String, [String: String], String?, String)] = [
                ("GET", "/api/v1/orders?status=shipped", [:], nil, "status"),
                ("GET", "/api/v1/orders?include=everything", [:], nil, "include"),
                ("GET", "/api/v1/orders?limit=abc", [:], nil, "limit"),
                ("GET", "/api/v1/orders?cursor=not-ours", [:], nil, "cursor"),
                // base64url of "c1:\0": a forged position with a NUL (it was a 500 on /products).
                ("GET", "/api/v1/products?cursor=YzE6AA", [:], nil, "cursor"),
                ("POST", "/api/v1/orders", [:], body, "Idempotency-Key"),
                ("POST", "/api/v1/orders", ["Idempotency-Key": UUID().uuidString], #"{"items":[{"product_id":"\#(Self.mug)","quantity":0}]}"#, "items[0].quantity"),
                ("POST", "/api/v1/orders", ["Idempotency-Key": UUID().uuidString], #"{"items":[{"product_id":"mug","quantity":1}]}"#, "items[0].product_id"),
                ("POST", "/api/v1/orders", ["Idempotency-Key": UUID().uuidString],
                 #"{"items":[{"product_id":"\#(Self.mug)","quantity":1},{"product_id":"\#(Self.mug)","quantity":1}]}"#, "items[1].product_id"),
                ("POST", "/api/v1/orders", ["Idempotency-Key": UUID().uuidString], #"{"items":"all"}"#, "items"),
            ]
            for (method, path, headers, json, field) in invalid {
                let bad = try await orders.request(method, path, headers: ada.bearer.merging(headers) { $1 }, json: json)
                #expect(bad.status == 400, "\(path) \(json ?? ""): \(bad.text)")
                #expect(bad.header("Content-Type") == "application/problem+json")
                let fields = (try? bad.json()["errors"] as? [[String: Any]])?.compactMap { $0["field"] as? String } ?? []
                #expect(fields.contains(field), "\(path) \(json ?? ""): \(bad.text)")
            }
            // An unknown product is 422 naming the line; a malformed query 400, never a 500.
            let unknown = try await orders.request("POST", "/api/v1/orders", headers: ada.bearer.merging(["Idempotency-Key": UUID().uuidString]) { $1 },
                                                   json: #"{"items":[{"product_id":"\#(UUID().uuidString)","quantity":1}]}"#)
            #expect(unknown.status == 422, "\(unknown.text)")
            #expect((try unknown.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "items[0].product_id")
            #expect(try await orders.request("GET", "/api/v1/orders?foo", headers: ada.bearer).status == 400)

            // Authentication: none, or a forged token, is 401 on every customer operation.
            for (method, path) in [("GET", "/api/v1/orders"), ("GET", "/api/v1/orders/\(id)"), ("POST", "/api/v1/orders/\(id)/cancel"), ("GET", "/api/v1/orders/\(id)/saga")] {
                let anonymous = try await orders.request(method, path)
                #expect(anonymous.status == 401, "\(method) \(path): \(anonymous.text)")
                let forged = try await orders.request(method, path, headers: ["Authorization": "Bearer not.a.token"])
                #expect(forged.status == 401, "\(method) \(path): \(forged.text)")
            }

            // The gate decides before the request is read: no token is 401 even when the key and
            // body are bad too, and a customer on an admin operation is 403 whatever the body.
            let anonymousBad = try await orders.request("POST", "/api/v1/orders", json: #"{"items":"all"}"#)
            #expect(anonymousBad.status == 401, "\(anonymousBad.text)")
            #expect(anonymousBad.header("Content-Type") == "application/problem+json")
            let notAdmin = try await core.payments.request("PUT", "/api/v1/payments/faults", headers: ada.bearer, json: #"{"decline_rate":"lots"}"#)
            #expect(notAdmin.status == 403, "\(notAdmin.text)")
            let adminBad = try await core.payments.request("PUT", "/api/v1/payments/faults", headers: admin, json: #"{"decline_rate":"lots"}"#)
            #expect(adminBad.status == 400, "an admin gets as far as the body: \(adminBad.text)")

            // `Accept` is not negotiated (the generated code would check it after the order was
            // stored): the JSON answer comes back.
            let html = try await orders.request("GET", "/api/v1/orders/\(id)", headers: ada.bearer.merging(["Accept": "text/html"]) { $1 })
            #expect(html.status == 200, "\(html.text)")

            // Cancelling someone else's order is 404, one that is not approved yet (or any more) 409.
            #expect(try await orders.request("POST", "/api/v1/orders/\(id)/cancel", headers: bob.bearer).status == 404)
            try await Poll.until("Ada's order left pending") {
                let now = try await orders.request("GET", "/api/v1/orders/\(id)", headers: ada.bearer)
                return (try? now.json()["status"] as? String).flatMap { $0 } != "pending"
            }
            // Two cancels at once: one wins; the other's 409 names the status it lost to.
            async let cancelA = orders.request("POST", "/api/v1/orders/\(id)/cancel", headers: ada.bearer)
            async let cancelB = orders.request("POST", "/api/v1/orders/\(id)/cancel", headers: ada.bearer)
            let cancels = try await [cancelA, cancelB]
            let status = try await orders.request("GET", "/api/v1/orders/\(id)", headers: ada.bearer).json()["status"] as? String
            if status == "rejected" {
                #expect(cancels.map(\.status) == [409, 409], "\(cancels.map(\.text))")
                #expect(try cancels[0].json()["type"] as? String == "/problems/not-cancellable")
            } else {
                let won = try #require(cancels.first { $0.status == 202 }, "\(cancels.map(\.text))")
                #expect(try won.json()["status"] as? String == "cancelling")
                let lost = try #require(cancels.first { $0.status == 409 }, "\(cancels.map(\.text))")
                let detail = try lost.json()["detail"] as? String ?? ""
                #expect(!detail.contains("is approved"), "the loser's 409 names a status read before it lost: \(detail)")
            }

            _ = try await orders.terminate()
            try await core.stop()
        }
    }
}
