import Auth
import Contracts
import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// The notifications API served by the stubs generated from the contract's `notifications`
    /// tag, against a real notifications process: what the generated layer would change if the
    /// shared glue (`CurrentRequest`, `ServerError` mapping, request ids) were missing.
    @Suite("Notifications API (generated stubs)")
    struct NotificationsAPITests {
        @Test("the live stream misses nothing (one user's notifications commit in sequence order; one whose publish was lost arrives with the next heartbeat) and lasts as long as its token")
        func streamMissesNothing() async throws {
            let core = try await UsersAndPayments.start()
            // No leeway past `exp`, so the short-lived token below is refused as soon as it expires.
            let notifications = try await core.startVerifying("notifications", extra: [
                "NOTIFICATIONS_HEARTBEAT_MS": "1000", "JWT_LEEWAY_SECONDS": "0", "NOTIFICATIONS_STREAMS_PER_USER": "2",
            ])
            let ada = try await core.newCustomer("Ada")
            try await Poll.until("Ada's welcome notification is listed") {
                let list = try await notifications.request("GET", "/api/v1/notifications", headers: ada.bearer)
                return ((try? list.json()["data"] as? [[String: Any]])??.count ?? 0) > 0
            }
            let stream = EventStreamReader(url: URL(string: "http://127.0.0.1:\(notifications.port)/api/v1/notifications/stream")!, bearer: ada.accessToken)
            defer { stream.close() }
            try await Poll.until("the stream is connected") { stream.text.contains(": connected") }
            #expect(stream.ids.isEmpty, "without Last-Event-ID the stream starts after the newest notification")

            // A notification stored without a publish (as when Redis was briefly unreachable):
            // the next heartbeat brings it.
            let unpublished = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    INSERT INTO notifications.notifications (id, user_id, kind, payload, message, source_event_id)
                    VALUES (gen_random_uuid(), \(ada.id), 'welcome', '{}', 'stored, never published', gen_random_uuid()) RETURNING seq
                    """, on: client)
            }
            try await Poll.until("the unpublished notification arrives") { stream.ids.contains(unpublished) }

            // Two notifications of Ada in flight at once. The test holds the lock a notification
            // insert takes (NotificationStore.insert) and draws its sequence first; the service's
            // insert for an order_approved must wait for it, so it commits second with the higher
            // sequence. Without that order the stream would send the service's first, and never
            // the test's lower one.
            let channel = try SagaChannel()
            let orderID = UUID()
            let logger = Logger(label: "notifications-stream-test")
            let first = try await AdminDatabase.with { client in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("""
                        SELECT pg_advisory_xact_lock(hashtext('orderflow.notifications.user'), hashtext(\(ada.id.uuidString.lowercased())))
                        """, logger: logger)
                    _ = try await channel.send(OrderApproved(orderID: orderID, customerID: ada.id, total: Money(amountMinor: 1_499, currency: "EUR"), approvedAt: Date()))
                    try await Poll.until("the service's insert waits for Ada's lock") {
                        try await AdminDatabase.with { other in
                            try await AdminDatabase.scalar("""
                                SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                                   AND classid = hashtext('orderflow.notifications.user')::oid AND objid = hashtext(\(ada.id.uuidString.lowercased()))::oid
                                """, on: other)
                        } >= 1
                    }
                    var seq: Int64 = 0
                    for try await (value,) in try await connection.query("""
                        INSERT INTO notifications.notifications (id, user_id, kind, payload, message, source_event_id)
                        VALUES (gen_random_uuid(), \(ada.id), 'welcome', '{}', 'drew its sequence first', gen_random_uuid()) RETURNING seq
                        """, logger: logger).decode((Int64,).self) { seq = value }
                    return seq
                }
            }
            try await Poll.until("both arrive, the lower sequence first") {
                stream.events.contains { $0.contains(orderID.uuidString.lowercased()) } && stream.ids.contains(first)
            }
            let ids = stream.ids
            #expect(ids == ids.sorted() && Set(ids).count == ids.count, "in sequence order, once each: \(ids)")

            let streamURL = URL(string: "http://127.0.0.1:\(notifications.port)/api/v1/notifications/stream")!
            // At most two streams per user here (NOTIFICATIONS_STREAMS_PER_USER=2). A second one is
            // simply opened; a third ends the oldest instead of being refused (a browser's
            // EventSource gives up after an error status; the ended one reconnects).
            let newest = EventStreamReader(url: streamURL, bearer: ada.accessToken)
            defer { newest.close() }
            try await Poll.until("Ada's second stream is connected") { newest.text.contains(": connected") }

            // A stream lasts as long as its token is accepted: it ends at the first heartbeat after
            // the token expires (one minted to expire in 3 s; this instance allows no leeway) or is
            // revoked by a logout.
            let keys = try #require(SigningKey.parseList(
                try String(contentsOfFile: try StackEnvironment.value("ORDERFLOW_JWT_SIGNING_KEYS_FILE"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)))
            let shortLived = TokenForge(key: keys[0], subject: ada.id).signed(claims: ["exp": Date().timeIntervalSince1970.rounded(.down) + 3])
            let expiring = EventStreamReader(url: streamURL, bearer: shortLived)
            defer { expiring.close() }
            try await Poll.until("the short-lived token's stream, Ada's third, is connected") { expiring.text.contains(": connected") }
            try await Poll.until("Ada's third stream ended her oldest") { stream.ended }
            #expect(!newest.ended, "only the oldest")
            #expect(try await notifications.metric("notifications_streams_evicted_total") == 1)
            // Another user is not affected.
            let grace = try await core.newCustomer("Grace")
            let graces = EventStreamReader(url: streamURL, bearer: grace.accessToken)
            defer { graces.close() }
            try await Poll.until("Grace's stream is connected") { graces.text.contains(": connected") }
            #expect(try await notifications.metric("notifications_streams_open") == 3)

            try await Poll.until("the stream ends once its token has expired") { expiring.ended }
            #expect(!newest.ended, "Ada's other stream goes on")
            // Streams give their place back when they end: when the server ends them (the expired
            // one) and when the client goes away (Grace's).
            graces.close()
            try await Poll.until("both ended streams gave their place back") {
                try await notifications.metric("notifications_streams_open") == 1
            }
            let second = EventStreamReader(url: streamURL, bearer: ada.accessToken)
            defer { second.close() }
            try await Poll.until("Ada has two streams again") { second.text.contains(": connected") }
            #expect(!newest.ended, "two fit: nothing ended")
            #expect(try await notifications.metric("notifications_streams_evicted_total") == 1)
            #expect(try await core.users.request("POST", "/api/v1/auth/logout", headers: ada.bearer).status == 204)
            try await Poll.until("Ada's streams end after her logout") { newest.ended && second.ended }
            await channel.close()
            _ = try await notifications.terminate()
            try await core.stop()
        }

        @Test("list, mark read, and every error as a problem the contract documents")
        func listAndMarkRead() async throws {
            let core = try await UsersAndPayments.start()
            let notifications = try await core.startVerifying("notifications")
            let ada = try await core.newCustomer("Ada")
            let bob = try await core.newCustomer("Bob")

            // The welcome notification arrives from users' `user_registered` through Kafka.
            try await Poll.until("Ada's welcome notification is listed") {
                let list = try await notifications.request("GET", "/api/v1/notifications", headers: ada.bearer)
                return ((try? list.json()["data"] as? [[String: Any]])??.count ?? 0) > 0
            }
            let list = try await notifications.request("GET", "/api/v1/notifications", headers: ada.bearer)
            #expect(list.status == 200)
            #expect(list.header("Content-Type") == "application/json; charset=utf-8")
            // HEAD: the list answers with its GET's head; the stream refuses rather than open one
            // (which would take a place in the user's stream quota).
            let listHead = try await notifications.request("HEAD", "/api/v1/notifications", headers: ada.bearer)
            #expect(listHead.status == 200 && listHead.header("Content-Length") == "\(list.body.count)", "\(listHead.headers)")
            let streamHead = try await notifications.request("HEAD", "/api/v1/notifications/stream", headers: ada.bearer)
            #expect(streamHead.status == 405 && streamHead.header("Allow") == "GET", "\(streamHead.status) \(streamHead.headers)")
            let data = try #require(try list.json()["data"] as? [[String: Any]])
            let welcome = try #require(data.first)
            #expect(data.count == 1)
            #expect(welcome["kind"] as? String == "welcome")
            #expect(welcome["read_at"] == nil)
            let created = try #require(welcome["created_at"] as? String)
            #expect(created.contains("."), "fractional seconds are kept: \(created)")
            #expect(try list.json()["has_more"] as? Bool == false)
            let id = try #require(welcome["id"] as? String)

            // The request id: the client's, echoed exactly once (the generated output sets it
            // too; the middleware must replace, not add).
            let tagged = try await notifications.request("GET", "/api/v1/notifications", headers: ada.bearer.merging(["X-Request-ID": "trace-me-1"]) { $1 })
            #expect(tagged.header("X-Request-ID") == "trace-me-1")

            // Query parameters the runtime cannot decode, and ones it decodes but we refuse:
            // both are 400 validation problems naming the field.
            for (query, field) in [("limit=abc", "limit"), ("limit=0", "limit"), ("limit=101", "limit"), ("cursor=not-ours", "cursor")] {
                let bad = try await notifications.request("GET", "/api/v1/notifications?\(query)", headers: ada.bearer)
                #expect(bad.status == 400, "\(query): \(bad.text)")
                #expect(bad.header("Content-Type") == "application/problem+json")
                let errors = try #require(try bad.json()["errors"] as? [[String: Any]], "\(query): \(bad.text)")
                #expect(errors.first?["field"] as? String == field, "\(query): \(bad.text)")
            }

            // Authentication happens in the operation's gate, before the request is read.
            let anonymous = try await notifications.request("GET", "/api/v1/notifications")
            #expect(anonymous.status == 401)
            #expect(anonymous.header("Content-Type") == "application/problem+json")
            let forged = try await notifications.request("POST", "/api/v1/notifications/\(id)/read", headers: ["Authorization": "Bearer not.a.token"])
            #expect(forged.status == 401)

            // `Accept` is not negotiated (the generated code would check it only after the
            // handler ran): the one documented type comes back.
            let html = try await notifications.request("GET", "/api/v1/notifications", headers: ada.bearer.merging(["Accept": "text/html"]) { $1 })
            #expect(html.status == 200, "\(html.text)")
            #expect(html.header("Content-Type") == "application/json; charset=utf-8")

            // A query the runtime cannot parse is the client's error, not a 500.
            let malformedQuery = try await notifications.request("GET", "/api/v1/notifications?foo", headers: ada.bearer)
            #expect(malformedQuery.status == 400, "\(malformedQuery.text)")
            #expect(malformedQuery.header("Content-Type") == "application/problem+json")

            // Marking read: someone else's notification is not found, a non-UUID names the
            // field, the owner's is marked (twice is fine) and shows `read_at`.
            let notBobs = try await notifications.request("POST", "/api/v1/notifications/\(id)/read", headers: bob.bearer)
            #expect(notBobs.status == 404)
            #expect(try notBobs.json()["type"] as? String == "/problems/not-found")
            let malformed = try await notifications.request("POST", "/api/v1/notifications/nope/read", headers: ada.bearer)
            #expect(malformed.status == 400)
            #expect((try malformed.json()["errors"] as? [[String: Any]])?.first?["field"] as? String == "id")
            for _ in 0..<2 {
                let read = try await notifications.request("POST", "/api/v1/notifications/\(id)/read", headers: ada.bearer)
                #expect(read.status == 204)
                #expect(read.body.isEmpty)
            }
            let after = try await notifications.request("GET", "/api/v1/notifications?limit=1", headers: ada.bearer)
            let first = try #require((try after.json()["data"] as? [[String: Any]])?.first)
            #expect(first["read_at"] as? String != nil)

            _ = try await notifications.terminate()
            try await core.stop()
        }
    }
}
