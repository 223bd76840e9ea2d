import Contracts
import Foundation
import Logging
import PostgresNIO
import TestSupport
import Testing

extension LiveServices {
    /// users over HTTP against real Postgres, Redis and Tansu, with payments verifying the
    /// same tokens through users' JWKS.
    @Suite("Identity: register, log in, refresh, log out, suspend")
    struct IdentityFlowTests {
        @Test("register → login → me → refresh rotates (reuse revokes the family) → logout revokes the access token everywhere")
        func fullFlow() async throws {
            let fleet = try await UsersAndPayments.start()
            let customer = try await fleet.newCustomer("Ada")

            let me = try await fleet.users.request("GET", "/api/v1/users/me", headers: customer.bearer)
            #expect(me.status == 200)
            #expect(try me.json()["email"] as? String == customer.email)
            #expect(try me.json()["roles"] as? [String] == ["customer"])

            let duplicate = try await fleet.users.request(
                "POST", "/api/v1/users", json: #"{"email":"\#(customer.email.uppercased())","password":"another password","display_name":"Eve"}"#
            )
            #expect(duplicate.status == 409)
            #expect(duplicate.header("Content-Type") == "application/problem+json")

            // A NUL (JSON "\u0000"), which Postgres text cannot hold and bcrypt would stop at:
            // field errors at registration, a plain wrong login (found by `make fuzz`: it was a 500).
            let nul = "h-\(UUID().uuidString.prefix(8).lowercased())@example.org"
            let withNul = try await fleet.users.request(
                "POST", "/api/v1/users", json: #"{"email":"\#(nul)","password":"long enough\u0000pw","display_name":"Nul\u0000l"}"#
            )
            #expect(withNul.status == 400 && withNul.header("Content-Type") == "application/problem+json", "\(withNul.status) \(withNul.text)")
            let nulFields = try #require(try withNul.json()["errors"] as? [[String: Any]]).compactMap { $0["field"] as? String }
            #expect(nulFields == ["password", "display_name"], "\(withNul.text)")
            let nulEmail = try await fleet.users.request(
                "POST", "/api/v1/users", json: #"{"email":"h\u0000\#(nul)","password":"long enough pw","display_name":"Nul"}"#
            )
            #expect(nulEmail.status == 400, "\(nulEmail.status) \(nulEmail.text)")
            #expect(try nulEmail.json()["errors"].flatMap { $0 as? [[String: Any]] }?.compactMap { $0["field"] as? String } == ["email"])
            for login in [#"{"email":"\#(customer.email)\u0000","password":"x"}"#, #"{"email":"\#(customer.email)","password":"\#(customer.password)\u0000more"}"#] {
                let refused = try await fleet.users.request("POST", "/api/v1/auth/tokens", json: login)
                #expect(refused.status == 401 && refused.header("Content-Type") == "application/problem+json", "\(login): \(refused.status) \(refused.text)")
            }

            // Headers the generated serializer would percent-encode come out as written.
            let email = "h-\(UUID().uuidString.prefix(8).lowercased())@example.org"
            let registered = try await fleet.users.request("POST", "/api/v1/users", json: #"{"email":"\#(email)","password":"a long enough password","display_name":"Hedy"}"#)
            #expect(registered.status == 201)
            let registeredID = try #require(try registered.json()["id"] as? String)
            #expect(registered.header("Location") == "/api/v1/users/\(registeredID)")
            let jwks = try await fleet.users.request("GET", "/.well-known/jwks.json")
            #expect(jwks.status == 200)
            #expect(jwks.header("Cache-Control") == "max-age=60")
            #expect(jwks.header("Access-Control-Allow-Origin") == "*")
            let tokens = try await fleet.users.request("POST", "/api/v1/auth/tokens", json: #"{"email":"\#(email)","password":"a long enough password"}"#)
            #expect(tokens.header("Cache-Control") == "no-store")
            #expect(!tokens.text.contains("\n"), "compact JSON, as the other responses")

            // Rotation: the refresh token works once; its successor works until a replay of
            // the old one revokes the whole family.
            let rotated = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(customer.refreshToken)"}"#)
            #expect(rotated.status == 200)
            let successor = try #require(try rotated.json()["refresh_token"] as? String)
            #expect(successor != customer.refreshToken)
            let replay = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(customer.refreshToken)"}"#)
            #expect(replay.status == 401)
            let afterReuse = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(successor)"}"#)
            #expect(afterReuse.status == 401, "a replayed refresh token must revoke its family")

            // Logout: the access token is refused by users and by payments, the refresh token too.
            let session = try await fleet.login(email: customer.email, password: customer.password)
            let bearer = ["Authorization": "Bearer \(session.access)"]
            #expect(try await fleet.payments.request("GET", "/api/v1/wallet", headers: bearer).status != 401)
            let logout = try await fleet.users.request("POST", "/api/v1/auth/logout", headers: bearer, json: #"{"refresh_token":"\#(session.refresh)"}"#)
            #expect(logout.status == 204)
            for (name, service) in [("users", fleet.users), ("payments", fleet.payments)] {
                let path = name == "users" ? "/api/v1/users/me" : "/api/v1/wallet"
                let refused = try await service.request("GET", path, headers: bearer)
                #expect(refused.status == 401, "\(name) accepted a revoked token")
                #expect(try refused.json()["detail"] as? String == "The access token was revoked.")
            }
            let refreshAfterLogout = try await fleet.users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(session.refresh)"}"#)
            #expect(refreshAfterLogout.status == 401)
            try await fleet.stop()
            // Stopped, so its whole log is read: the replay was reported; the revoked successor
            // and the logged-out token, never used, were refused without a false alarm.
            #expect(fleet.users.logCount("refresh token reuse detected") == 1, "\(fleet.users.log.suffix(3_000))")
        }

        @Test("a logout racing a refresh of the same family leaves no usable refresh token: both wait for the family's lock")
        func logoutRacingRefresh() async throws {
            let fleet = try await UsersAndPayments.start()
            let customer = try await fleet.newCustomer("Racer")
            let session = try await fleet.login(email: customer.email, password: customer.password)
            let users = fleet.users
            let family = try await AdminDatabase.with { client in
                var found: UUID?
                for try await (id,) in try await client.query("""
                    SELECT family_id FROM users.refresh_tokens WHERE user_id = \(customer.id) ORDER BY created_at DESC LIMIT 1
                    """).decode((UUID,).self) { found = id }
                return try #require(found)
            }
            let lockKey = family.uuidString.lowercased()
            // Waiters for this family's lock only (classid, objid: the two keys of the lock).
            let waiting = { @Sendable () async throws -> Int64 in
                try await AdminDatabase.with { client in
                    try await AdminDatabase.scalar("""
                        SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
                           AND classid = hashtext('orderflow.users.refresh_family')::oid AND objid = hashtext(\(lockKey))::oid
                        """, on: client)
                }
            }
            // The test holds the family's lock; the refresh and then the logout queue behind it,
            // and run in that order once it is released.
            let logger = Logger(label: "identity-race-test")
            let (refreshed, loggedOut) = try await AdminDatabase.with { client in
                try await client.withTransaction(logger: logger) { connection in
                    try await connection.query("""
                        SELECT pg_advisory_xact_lock(hashtext('orderflow.users.refresh_family'), hashtext(\(lockKey)))
                        """, logger: logger)
                    let refresh = Task { try await users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(session.refresh)"}"#) }
                    try await Poll.until("the refresh waits for the family's lock") { try await waiting() >= 1 }
                    let logout = Task {
                        try await users.request("POST", "/api/v1/auth/logout", headers: ["Authorization": "Bearer \(session.access)"],
                                                json: #"{"refresh_token":"\#(session.refresh)"}"#)
                    }
                    try await Poll.until("the logout waits too") { try await waiting() >= 2 }
                    return (refresh, logout)
                }
            }
            let (refresh, logout) = (try await refreshed.value, try await loggedOut.value)
            #expect(logout.status == 204)
            #expect(refresh.status == 200, "the refresh ran first: \(refresh.text)")
            let successor = try #require(try refresh.json()["refresh_token"] as? String)
            #expect(try await users.request("POST", "/api/v1/auth/refresh", json: #"{"refresh_token":"\#(successor)"}"#).status == 401,
                    "the logout revoked the successor the racing refresh created")
            let usable = try await AdminDatabase.with { client in
                try await AdminDatabase.scalar("""
                    SELECT count(*) FROM users.refresh_tokens WHERE family_id = \(family) AND revoked_at IS NULL AND used_at IS NULL
                    """, on: client)
            }
            #expect(usable == 0)
            try await fleet.stop()
        }

        @Test("an admin suspends a customer: the tokens they hold are refused at once (services and gateway), login is refused, validate_customer replies suspended; unknown customers are rejected; a bootstrap admin email a customer holds is reported")
        func suspension() async throws {
            let fleet = try await UsersAndPayments.start()
            let channel = try SagaChannel()
            let active = try await fleet.newCustomer()
            let suspended = try await fleet.newCustomer()

            let notAdmin = try await fleet.users.request("POST", "/api/v1/users/\(suspended.id.uuidString.lowercased())/suspend", headers: active.bearer)
            #expect(notAdmin.status == 403)
            let admin = ["Authorization": "Bearer \(try await fleet.adminToken())"]
            #expect(try await fleet.users.request("GET", "/api/v1/users/me", headers: suspended.bearer).status == 200)
            // Through a gateway too, which then holds the token as verified in its cache.
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments)
            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: suspended.bearer).status == 200)
            let done = try await fleet.users.request("POST", "/api/v1/users/\(suspended.id.uuidString.lowercased())/suspend", headers: admin, json: #"{"reason":"test"}"#)
            #expect(done.status == 200)
            #expect(try done.json()["status"] as? String == "suspended")
            // The access token the user still holds is refused at once, by every service.
            let afterward = try await fleet.payments.request("GET", "/api/v1/wallet", headers: suspended.bearer)
            #expect(afterward.status == 401, "\(afterward.text)")
            #expect(try await fleet.users.request("GET", "/api/v1/users/me", headers: suspended.bearer).status == 401)
            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: suspended.bearer).status == 401, "the gateway's cached verification")
            #expect(try await gateway.request("GET", "/api/v1/wallet", headers: suspended.bearer).status == 401)
            _ = try await gateway.terminate()
            #expect(try await fleet.users.request("GET", "/api/v1/users/me", headers: active.bearer).status == 200, "only the suspended user's tokens")
            let login = try await fleet.users.request("POST", "/api/v1/auth/tokens", json: #"{"email":"\#(suspended.email)","password":"\#(suspended.password)"}"#)
            #expect(login.status == 403)

            let unknown = UUID()
            let commands = [
                try await channel.send(ValidateCustomer(orderID: UUID(), customerID: active.id)),
                try await channel.send(ValidateCustomer(orderID: UUID(), customerID: suspended.id)),
                try await channel.send(ValidateCustomer(orderID: UUID(), customerID: unknown)),
            ]
            // Delivered twice: the inbox answers once.
            try await channel.resend(commands[0], topic: .usersCommands)
            try await channel.waitUntil("users answered the three validations") { _ in
                commands.allSatisfy { !channel.replies(causedBy: $0.id).isEmpty }
            }
            let answers = commands.map { channel.replies(causedBy: $0.id) }
            #expect(answers[0].map(\.type) == [CustomerValidatedReply.ceType])
            #expect(try answers[1].first?.decode(CustomerRejectedReply.self).reason == .suspended)
            #expect(try answers[2].first?.decode(CustomerRejectedReply.self).reason == .unknownCustomer)
            #expect(answers[0].first?.correlationID == commands[0].correlationID)
            await channel.close()

            // A bootstrap administrator email a customer holds: the next users process says so.
            let sharing = fleet.users.logCount("kafka partitions assigned")
            let misconfigured = try ServiceProcess("users", environment: try StackEnvironment.serviceEnvironment("users")
                .merging(["LOG_LEVEL": "info", "USERS_ADMIN_EMAIL": active.email]) { $1 })
            try await misconfigured.waitForLog("USERS_ADMIN_EMAIL belongs to an account that is not an administrator")
            // It joined the users group: stopped before it owns partitions, and the first users
            // process stopped before it takes them back, Tansu would leave the group stalled for
            // the next test's users process (ADR 0006).
            try await UsersAndPayments.waitReady(misconfigured)
            try await Poll.until("the first users process took its share", deadline: .seconds(90)) {
                fleet.users.logCount("kafka partitions assigned") > sharing
            }
            let assignments = fleet.users.logCount("kafka partitions assigned")
            _ = try await misconfigured.terminate()
            try await Poll.until("the first users process owns every partition again", deadline: .seconds(90)) {
                fleet.users.logCount("kafka partitions assigned") > assignments
            }
            try await fleet.stop()
        }
    }
}
