import Foundation
import NIOConcurrencyHelpers
import TestSupport
import Testing

extension LiveServices {
    /// The gateway in front of real services, Redis and Kafka: authentication, rate limits,
    /// resilience and error shapes. (The saga end-to-end tests also run through a gateway.)
    @Suite("Gateway")
    struct GatewayTests {
        @Test("tokens: verified at the gateway, cached, and refused once revoked; request ids cross it; readiness aggregates the upstreams")
        func authentication() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments)
            let customer = try await fleet.newCustomer("Gatekept", via: gateway)

            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200)
            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200)
            let anonymous = try await gateway.request("GET", "/api/v1/wallet")
            #expect(anonymous.status == 401 && anonymous.header("WWW-Authenticate")?.hasPrefix("Bearer") == true)
            #expect(try await gateway.request("GET", "/.well-known/jwks.json").status == 200, "public routes need no token")

            // The request id a client sends reaches the service (its problem quotes it) and comes back.
            let traced = try await gateway.request("GET", "/api/v1/users/not-a-uuid", headers: customer.bearer.merging(["X-Request-ID": "gw-test-42"]) { $1 })
            #expect(traced.header("X-Request-ID") == "gw-test-42")
            #expect(try traced.json()["request_id"] as? String == "gw-test-42", "the upstream saw the same id: \(traced.text)")

            // The read below goes first only if its bucket's last decision is known. A read whose
            // limiter call failed (admitted without RateLimit-* headers: Redis slow to answer early
            // in a busy run) leaves it unknown, so end on a read that got its decision. And if
            // every read so far found its bucket unknown, none went first yet, so go on until one
            // did: the expectation on `allowed` below counts it.
            try await Poll.until("a read admitted by a Redis decision, after one that went first") {
                let decided = try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).header("RateLimit-Remaining") != nil
                guard decided else { return false }
                return try await gateway.metric("gateway_speculative_reads_total", labels: [#"decision="allowed""#]) >= 1
            }
            // Logout revokes the access token: the gateway refuses it although it cached the verification.
            #expect(try await gateway.request("POST", "/api/v1/auth/logout", headers: customer.bearer).status == 204)
            let revoked = try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer)
            #expect(revoked.status == 401 && revoked.header("Content-Type") == "application/problem+json")
            #expect(revoked.text.contains("revoked"), "\(revoked.text)")
            // Refused by the gateway itself (only it sets this realm), not by users behind it.
            #expect(revoked.header("WWW-Authenticate") == #"Bearer realm="orderflow""#)
            // Its bucket had tokens to spare, so the read went upstream before its decision (ADR
            // 0011): the veto still won and the upstream's answer was thrown away.
            let speculated = (refused: try await gateway.metric("gateway_speculative_reads_total", labels: [#"decision="refused""#]),
                              allowed: try await gateway.metric("gateway_speculative_reads_total", labels: [#"decision="allowed""#]))
            let limiterFailures = try await gateway.metric("gateway_rate_limit_failures_total")
            #expect(speculated.refused == 1 && speculated.allowed >= 1, "speculative reads \(speculated); limiter failures \(limiterFailures)")
            #expect(await gateway.get("metrics")?.body.contains("gateway_auth_failures_total") == true)

            // Readiness names every upstream; orders and notifications are not running here.
            let ready = try #require(await gateway.get("health/ready"))
            #expect(ready.status == 503)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: Any])
            let checks = Dictionary(uniqueKeysWithValues: (report["checks"] as? [[String: Any]] ?? []).compactMap { check in
                (check["name"] as? String).map { ($0, check["status"] as? String ?? "") }
            })
            #expect(checks == ["redis": "up", "users": "up", "payments": "up", "orders": "down", "notifications": "down"])

            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }

        @Test("rate limits: a burst beyond the bucket gets 429 with Retry-After and RateLimit-* headers; reads, writes and anonymous callers have separate buckets; the bucket refills")
        func rateLimits() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments, environment: [
                "RATE_LIMIT_READ_BURST": "3", "RATE_LIMIT_READ_PER_SECOND": "1",
                "RATE_LIMIT_WRITE_BURST": "1000", "RATE_LIMIT_WRITE_PER_SECOND": "1000",
            ])
            let customer = try await fleet.newCustomer("Hasty", via: gateway)
            let upstreamReadsBefore = try await fleet.users.metric("hb_requests{", labels: [#""/api/v1/users/me""#])
            var remaining: [String] = []
            var limited: ServiceProcess.Reply?
            for _ in 0..<10 {
                let reply = try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer)
                if reply.status == 429 { limited = reply; break }
                #expect(reply.status == 200)
                #expect(reply.header("RateLimit-Limit") == "3")
                remaining.append(reply.header("RateLimit-Remaining") ?? "")
            }
            // At 1 token/s a slow machine may earn a token mid-burst, so the count may be 3 or a
            // little more; it starts at 2 and only a refill can raise it.
            #expect(remaining.count >= 3 && remaining.first == "2" && remaining.contains("0"), "\(remaining)")
            let refusal = try #require(limited, "no 429 within 10 quick reads of a 3-token bucket")
            #expect(refusal.header("Content-Type") == "application/problem+json")
            #expect(try refusal.json()["type"] as? String == "/problems/rate-limited")
            #expect(refusal.header("RateLimit-Remaining") == "0" && refusal.header("RateLimit-Limit") == "3")
            let retryAfter = try #require(refusal.header("Retry-After").flatMap(Int.init))
            #expect((1...3).contains(retryAfter))
            // Reads the forecast knew to be covered went upstream before their decision; the
            // refused one did not: users saw exactly the admitted reads.
            #expect(try await gateway.metric("gateway_speculative_reads_total", labels: [#"decision="allowed""#]) >= 1)
            let upstreamReads = try await fleet.users.metric("hb_requests{", labels: [#""/api/v1/users/me""#]) - upstreamReadsBefore
            #expect(upstreamReads == Double(remaining.count), "users answered \(upstreamReads) reads for \(remaining.count) admitted")

            // Another gateway spends the same bucket, which this one cannot see: its next read
            // goes first on a stale forecast, and Redis's refusal still wins (429, upstream answer
            // thrown away). A refill between the two would admit it, so try a few times.
            let twin = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments, environment: [
                "RATE_LIMIT_READ_BURST": "3", "RATE_LIMIT_READ_PER_SECOND": "1",
                "RATE_LIMIT_WRITE_BURST": "1000", "RATE_LIMIT_WRITE_PER_SECOND": "1000",
            ])
            let reader = try await fleet.newCustomer("Twinned", via: twin)
            var staleRefusal: ServiceProcess.Reply?
            for _ in 0..<5 where staleRefusal == nil {
                try await Poll.until("the twin's read leaves a token in the bucket", deadline: .seconds(30)) {
                    let reply = try await twin.request("GET", "/api/v1/users/me", headers: reader.bearer)
                    return reply.status == 200 && (reply.header("RateLimit-Remaining").flatMap(Int.init) ?? 0) >= 1
                }
                // The twin now forecasts a token or more; the first gateway empties the bucket.
                var emptied = false
                for _ in 0..<10 where !emptied {
                    emptied = try await gateway.request("GET", "/api/v1/users/me", headers: reader.bearer).status == 429
                }
                let refusedBefore = try await twin.metric("gateway_speculative_reads_total", labels: [#"decision="refused""#])
                let reply = try await twin.request("GET", "/api/v1/users/me", headers: reader.bearer)
                let refusedAfter = try await twin.metric("gateway_speculative_reads_total", labels: [#"decision="refused""#])
                if reply.status == 429, refusedAfter == refusedBefore + 1 { staleRefusal = reply }
            }
            let stale = try #require(staleRefusal, "the twin's read after the bucket was emptied elsewhere was never refused")
            #expect(stale.header("RateLimit-Remaining") == "0" && stale.header("Retry-After") != nil)
            #expect(try stale.json()["type"] as? String == "/problems/rate-limited")
            #expect(try await twin.terminate() == 0)

            // Writes spend from their own bucket; anonymous callers from their address's.
            #expect(try await gateway.request("POST", "/api/v1/auth/tokens", json: #"{"email":"\#(customer.email)","password":"\#(customer.password)"}"#).status == 200)
            #expect(try await gateway.request("GET", "/.well-known/jwks.json").status == 200)

            // The bucket refills at 1 token/s.
            try await Poll.until("the read bucket refills", deadline: .seconds(30)) {
                try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200
            }
            let metrics = try #require(await gateway.get("metrics"))
            #expect(metrics.body.contains(#"gateway_rate_limit_decisions_total{class="read",decision="limited"}"#))
            #expect(try await gateway.terminate() == 0)

            // Forged tokens are verified at most a write bucket's worth per address: then 429, unverified.
            let strict = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments, environment: [
                "RATE_LIMIT_WRITE_BURST": "3", "RATE_LIMIT_WRITE_PER_SECOND": "1",
            ])
            var statuses: [Int] = []
            for index in 0..<8 {
                statuses.append(try await strict.request("GET", "/api/v1/users/me", headers: ["Authorization": "Bearer forged.\(index).token"]).status)
            }
            #expect(statuses.prefix(3).allSatisfy { $0 == 401 } && statuses.last == 429, "\(statuses)")
            #expect(try await strict.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 429,
                    "a token new to this gateway waits for the address's verification budget like any other")
            try await Poll.until("the verification bucket refills", deadline: .seconds(30)) {
                try await strict.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200
            }
            // Once verified, the token is served from the cache: an exhausted budget does not touch it.
            for index in 0..<6 { _ = try await strict.request("GET", "/api/v1/users/me", headers: ["Authorization": "Bearer forged.again.\(index)"]) }
            #expect(try await strict.request("GET", "/api/v1/users/me", headers: ["Authorization": "Bearer forged.last"]).status == 429)
            #expect(try await strict.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200)
            #expect(try await strict.terminate() == 0)

            // Redis unreachable: the gateway fails open (tokens still verified) and counts it.
            let blind = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments, environment: [
                "REDIS_URL": "redis://127.0.0.1:\(try FreePort.reserve())", "RATE_LIMIT_READ_BURST": "1", "RATE_LIMIT_READ_PER_SECOND": "1",
            ])
            for _ in 0..<3 { #expect(try await blind.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200) }
            #expect(try await blind.request("GET", "/api/v1/users/me").status == 401)
            let blindMetrics = try #require(await blind.get("metrics"))
            // 4 = the first request's verification budget and bucket, then the bucket twice (the token is cached).
            #expect(blindMetrics.body.contains("gateway_rate_limit_failures_total 4"), "\(blindMetrics.body.split(separator: "\n").filter { $0.contains("gateway_rate") })")
            #expect(try await blind.terminate() == 0)
            try await fleet.stop()
        }

        @Test("resilience: a silent upstream gets 504 within the timeout; a killed one 503, then fast 503s from the open breaker; it recovers when the upstream is back")
        func resilience() async throws {
            var fleet = try await UsersAndPayments.start()
            let silent = try SilentListener()
            defer { silent.close() }
            let gateway = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": silent.port],
                environment: ["GATEWAY_UPSTREAM_TIMEOUT_MS": "1000", "GATEWAY_BREAKER_FAILURES": "3", "GATEWAY_BREAKER_OPEN_MS": "1500", "GATEWAY_RETRIES": "1"]
            )
            let customer = try await fleet.newCustomer("Resilient", via: gateway)
            _ = try await fleet.walletBalance(of: customer, via: gateway)

            let started = ContinuousClock.now
            let slow = try await gateway.request("GET", "/api/v1/notifications", headers: customer.bearer)
            let waited = ContinuousClock.now - started
            #expect(slow.status == 504)
            #expect(try slow.json()["type"] as? String == "/problems/upstream-timeout")
            #expect(!slow.text.contains("127.0.0.1") && !slow.text.contains(String(silent.port)), "no internal address: \(slow.text)")
            #expect(waited >= .milliseconds(900), "answered before the 1 s timeout: \(waited)")
            #expect(waited < .seconds(15), "a timed-out upstream must not hold the client (generous bound): \(waited)")

            // A read that goes upstream before its decision (ADR 0011) and is refused gets its
            // refusal at once, not when the upstream answers: here the upstream never does, and the
            // gateway would wait 20 s for it.
            let patient = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": silent.port],
                environment: ["GATEWAY_UPSTREAM_TIMEOUT_MS": "20000", "GATEWAY_RETRIES": "0"]
            )
            let leaving = try await fleet.newCustomer("Leaving", via: patient)
            _ = try await fleet.walletBalance(of: leaving, via: patient)  // a decided read: the bucket is known to have room
            #expect(try await fleet.users.request("POST", "/api/v1/auth/logout", headers: leaving.bearer).status == 204)
            let askedAt = ContinuousClock.now
            let refused = try await patient.request("GET", "/api/v1/notifications", headers: leaving.bearer)
            let refusedAfter = ContinuousClock.now - askedAt
            #expect(refused.status == 401 && refused.header("WWW-Authenticate") == #"Bearer realm="orderflow""#, "\(refused.status) \(refused.text)")
            #expect(try await patient.metric("gateway_speculative_reads_total", labels: [#"decision="refused""#]) == 1, "the read went first")
            #expect(refusedAfter < .seconds(10), "the refusal waited for the silent upstream: \(refusedAfter)")
            #expect(try await patient.terminate() == 0)

            try await fleet.payments.crash()
            let seen = NIOLockedValueBox<[String]>([])
            try await Poll.until("the payments breaker opens") {
                let reply = try await gateway.request("GET", "/api/v1/wallet", headers: customer.bearer)
                #expect(reply.status == 503, "\(reply.status) \(reply.text)")
                let type = try reply.json()["type"] as? String ?? ""
                seen.withLockedValue { $0.append(type) }
                return type == "/problems/upstream-circuit-open"
            }
            let types = seen.withLockedValue { $0 }
            #expect(types.first == "/problems/upstream-unavailable", "the first failures reach the dead upstream: \(types)")
            let open = try await gateway.request("GET", "/api/v1/wallet", headers: customer.bearer)
            #expect(open.status == 503 && open.header("Retry-After").flatMap(Int.init).map { (1...2).contains($0) } == true, "\(open.headers)")
            #expect(await gateway.get("metrics")?.body.contains(#"gateway_circuit_breaker_state{upstream="payments"} 2"#) == true)
            // Other upstreams are unaffected.
            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200)

            try await fleet.restartPayments(["HTTP_PORT": String(fleet.payments.port)])
            // Readiness does not wait for traffic: once the open period is over, the breaker
            // admits the next request as its trial, so the gateway is ready again even while
            // nothing is routed to payments (a drained instance must be able to come back).
            // (The gateway as a whole stays unready here: its notifications upstream is silent.)
            try await Poll.until("the gateway reports payments up again with no request sent to it", deadline: .seconds(60)) {
                guard let body = await gateway.get("health/ready")?.body,
                      let report = try? JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any],
                      let checks = report["checks"] as? [[String: Any]] else { return false }
                return checks.contains { $0["name"] as? String == "payments" && $0["status"] as? String == "up" }
            }
            try await Poll.until("the gateway reaches payments again", deadline: .seconds(60)) {
                try await gateway.request("GET", "/api/v1/wallet", headers: customer.bearer).status == 200
            }
            #expect(await gateway.get("metrics")?.body.contains(#"gateway_circuit_breaker_state{upstream="payments"} 0"#) == true)
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }

        @Test("a client connection with nothing to do for GATEWAY_CLIENT_IDLE_TIMEOUT_MS is closed (a head that never completes, a body that stops, a kept-alive connection); one in steady use on both paths is not")
        func idleClients() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments, environment: ["GATEWAY_CLIENT_IDLE_TIMEOUT_MS": "1000"])
            let customer = try await fleet.newCustomer("Idle", via: gateway)
            let token = try #require(customer.bearer["Authorization"])

            let starts = [
                ("a head that never completes", "GET /api/v1/users/me HTTP/1.1\r\nHost: orderflow.test\r\n"),
                ("a body that stops", "POST /api/v1/auth/refresh HTTP/1.1\r\nHost: orderflow.test\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"refresh"),
                ("nothing at all", ""),
            ]
            for (what, start) in starts {
                let client = try RawHTTPConnection(port: gateway.port)
                let opened = ContinuousClock.now
                if !start.isEmpty { try client.write(start) }
                _ = client.read(until: { _ in false }, deadline: .seconds(30))
                let lasted = ContinuousClock.now - opened
                #expect(client.peerClosed, "\(what): still open after \(lasted)")
                #expect(lasted >= .milliseconds(900) && lasted < .seconds(20), "\(what): closed after \(lasted), idle timeout 1 s")
            }

            // Steady use for three times the timeout, alternating the event-loop path (a plain GET)
            // and the router (a POST), then silence: closed only after the silence.
            let steady = try RawHTTPConnection(port: gateway.port)
            let began = ContinuousClock.now
            var answers: [Int] = []
            while ContinuousClock.now - began < .seconds(3) {
                let request = answers.count.isMultiple(of: 2)
                    ? "GET /api/v1/users/me HTTP/1.1\r\nHost: orderflow.test\r\nAuthorization: \(token)\r\n\r\n"
                    : "POST /api/v1/auth/refresh HTTP/1.1\r\nHost: orderflow.test\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                try steady.write(request)
                let text = steady.read(until: { !RawHTTPResponse.parseAll($0).isEmpty }, deadline: .seconds(30))
                answers.append(RawHTTPResponse.parseAll(text).first?.status ?? 0)
                try await Task.sleep(for: .milliseconds(300))
            }
            #expect(!steady.peerClosed && answers.count >= 6, "answers: \(answers)")
            #expect(answers.enumerated().allSatisfy { $0.offset.isMultiple(of: 2) ? $0.element == 200 : $0.element == 400 }, "answers: \(answers)")
            let quiet = ContinuousClock.now
            _ = steady.read(until: { _ in false }, deadline: .seconds(30))
            #expect(steady.peerClosed && ContinuousClock.now - quiet < .seconds(20), "the kept-alive connection is closed once idle")
            // These four, and any the test's own HTTP client left idle.
            #expect(try await gateway.metric("gateway_client_idle_closed_total") >= 4)
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }

        @Test("event-loop path: plain GETs take it; pipelined requests across both paths are answered in order; a HEAD gets the head of a GET, Content-Length included")
        func eventLoopPath() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments)
            let customer = try await fleet.newCustomer("Pipelined", via: gateway)
            let token = try #require(customer.bearer["Authorization"])

            // A GET that takes the event-loop path, a POST the router answers (malformed JSON),
            // and an authenticated GET, written at once on one connection.
            let servedBefore = try await gateway.metric("gateway_fast_path_requests_total ")
            let connection = try RawHTTPConnection(port: gateway.port)
            try connection.write(
                "GET /.well-known/jwks.json HTTP/1.1\r\nHost: gw\r\nX-Request-ID: first\r\n\r\n"
                    + "POST /api/v1/users HTTP/1.1\r\nHost: gw\r\nX-Request-ID: second\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{\"email\": "
                    + "GET /api/v1/users/me HTTP/1.1\r\nHost: gw\r\nX-Request-ID: third\r\nAuthorization: \(token)\r\n\r\n"
            )
            let responses = RawHTTPResponse.parseAll(connection.read { RawHTTPResponse.parseAll($0).count >= 3 })
            try #require(responses.count == 3, "\(responses.map(\.status))")
            #expect(responses.map(\.status) == [200, 400, 200])
            #expect(responses.map { $0.headers["x-request-id"] } == ["first", "second", "third"])
            #expect(responses[0].body.contains("\"keys\""))
            #expect(responses[1].headers["content-type"] == "application/problem+json")
            #expect(responses[2].body.contains("Pipelined"), "\(responses[2].body)")
            #expect(responses[2].headers["ratelimit-limit"] != nil && responses[2].headers["x-content-type-options"] == "nosniff")
            // The same Server and Date headers on both paths; the upstream's own name stays inside.
            #expect(responses.map { $0.headers["server"] } == ["gateway", "gateway", "gateway"])
            #expect(responses.allSatisfy { $0.headers["date"]?.hasSuffix(" GMT") == true })
            // Both GETs took the event-loop path: the third was answered while the router still
            // owed the second's answer, and its answer waited for that one to go out.
            // (The count moves just after an answer's last byte is written, so wait for it.)
            try await Poll.until("both pipelined GETs counted on the event-loop path", deadline: .seconds(20)) {
                try await gateway.metric("gateway_fast_path_requests_total ") - servedBefore >= 2
            }

            // A client that half-closes right after its request still gets the answer.
            let halfClosed = try RawHTTPConnection(port: gateway.port)
            try halfClosed.write("GET /.well-known/jwks.json HTTP/1.1\r\nHost: gw\r\n\r\n")
            halfClosed.shutdownWrite()
            let afterHalfClose = RawHTTPResponse.parseAll(halfClosed.read { !RawHTTPResponse.parseAll($0).isEmpty })
            #expect(afterHalfClose.map(\.status) == [200])

            // A HEAD goes to the router: the head a GET gets, its Content-Length included, no body.
            let got = try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer)
            let headOnly = try RawHTTPConnection(port: gateway.port)
            try headOnly.write("HEAD /api/v1/users/me HTTP/1.1\r\nHost: gw\r\nAuthorization: \(token)\r\n\r\n"
                               + "GET /.well-known/jwks.json HTTP/1.1\r\nHost: gw\r\n\r\n")
            let afterHead = headOnly.read { $0.components(separatedBy: "\r\n\r\n").count >= 3 }
            let headLines = (afterHead.components(separatedBy: "\r\n\r\n").first ?? "").lowercased().components(separatedBy: "\r\n")
            #expect(headLines.first?.hasPrefix("http/1.1 200") == true, "\(afterHead)")
            #expect(headLines.contains("content-length: \(got.body.count)"), "\(headLines)")
            // Nothing follows the head but the next answer: no body was sent for the HEAD.
            #expect(afterHead.components(separatedBy: "\r\n\r\n")[1].hasPrefix("HTTP/1.1 200"), "\(afterHead)")

            // A GET on a quiet connection takes the path too.
            let servedBeforeQuiet = try await gateway.metric("gateway_fast_path_requests_total ")
            #expect(try await gateway.request("GET", "/api/v1/users/me", headers: customer.bearer).status == 200)
            try await Poll.until("the quiet GET counted on the event-loop path", deadline: .seconds(20)) {
                try await gateway.metric("gateway_fast_path_requests_total ") - servedBeforeQuiet >= 1
            }
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }

        @Test("event-loop path metrics: a GET counts in http_server_active_requests until its answer is written, and its duration runs to that moment")
        func eventLoopPathMetrics() async throws {
            let fleet = try await UsersAndPayments.start()
            let silent = try SilentListener()
            defer { silent.close() }
            let gateway = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": silent.port],
                environment: ["GATEWAY_UPSTREAM_TIMEOUT_MS": "8000", "GATEWAY_RETRIES": "0"]
            )
            let customer = try await fleet.newCustomer("Measured", via: gateway)
            // The scrape is itself a GET in progress (on the router path); count from there.
            let baseline = try await gateway.activeGETs()
            let servedBefore = try await gateway.metric("gateway_fast_path_requests_total ")
            let started = ContinuousClock.now
            let waiting = Task { try await gateway.request("GET", "/api/v1/notifications", headers: customer.bearer) }
            // The upstream never answers, so the GET stays in progress for the 8 s timeout.
            try await Poll.until("the waiting GET counts as active") { try await gateway.activeGETs() == baseline + 1 }
            let answer = try await waiting.value
            let waited = ContinuousClock.now - started
            #expect(answer.status == 504)
            #expect(try await gateway.metric("gateway_fast_path_requests_total ") == servedBefore + 1, "the GET took the event-loop path")
            #expect(try await gateway.activeGETs() == baseline, "an answered GET is no longer active")
            let recorded = try await gateway.metric("http_server_request_duration_sum{", labels: [#"http_response_status_code="504""#])
            #expect(recorded >= 7.5 && recorded <= Double(waited.components.seconds) + 1, "504 after \(waited), recorded \(recorded) s")
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }

        @Test("event-loop path, streamed answer: an answer without Content-Length reaches the client part by part while the upstream holds the rest; it stays active until its end, and its duration covers the hold")
        func eventLoopPathStreamedAnswer() async throws {
            let fleet = try await UsersAndPayments.start()
            let upstream = try HeldStreamUpstream(path: "/api/v1/notifications")
            defer { upstream.release(); upstream.close() }
            let gateway = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": upstream.port],
                environment: ["GATEWAY_RETRIES": "0"]
            )
            let customer = try await fleet.newCustomer("Streamed", via: gateway)
            @Sendable func durationOf200s() async throws -> Double {
                try await gateway.metric("http_server_request_duration_sum{", labels: [#"http_route="/api/v1/**""#, #"http_response_status_code="200""#])
            }
            let baseline = try await gateway.activeGETs()
            let servedBefore = try await gateway.metric("gateway_fast_path_requests_total ")
            let durationBefore = try await durationOf200s()

            let client = try RawHTTPConnection(port: gateway.port)
            let token = try #require(customer.bearer["Authorization"])
            let sent = ContinuousClock.now
            try client.write("GET /api/v1/notifications HTTP/1.1\r\nHost: orderflow.test\r\nAuthorization: \(token)\r\n\r\n")
            // The first part crosses the gateway while the upstream still holds the second.
            let head = client.read(until: { $0.contains(HeldStreamUpstream.firstPart) }, deadline: .seconds(10))
            try #require(head.contains(HeldStreamUpstream.firstPart), "the first part did not arrive before the end: \(head)")
            #expect(head.hasPrefix("HTTP/1.1 200"))
            #expect(head.lowercased().contains("transfer-encoding: chunked"), "\(head)")
            try await Poll.until("the streaming GET counts as active") { try await gateway.activeGETs() == baseline + 1 }

            let hold = Duration.seconds(2)  // part of the scenario, not a wait for a condition
            try await Task.sleep(for: hold)
            upstream.release()
            let rest = client.read { $0.hasSuffix("0\r\n\r\n") }
            #expect(rest.contains(HeldStreamUpstream.secondPart) && rest.hasSuffix("0\r\n\r\n"), "\(rest)")
            try await Poll.until("the streamed GET is no longer active") { try await gateway.activeGETs() == baseline }
            // (Counted once its answer is written.)
            #expect(try await gateway.metric("gateway_fast_path_requests_total ") == servedBefore + 1, "the GET took the event-loop path")
            let elapsed = ContinuousClock.now - sent
            let recorded = try await durationOf200s() - durationBefore
            #expect(recorded >= 2 && recorded <= Double(elapsed.components.seconds) + 1, "a streamed answer held for \(hold), \(elapsed) in all, recorded \(recorded) s")
            #expect(try await gateway.terminate() == 0)

            // Graceful shutdown lets a streamed answer under way run to its end (only event
            // streams are ended): ending it there made a cut chunked body look complete.
            let heldAgain = try HeldStreamUpstream(path: "/api/v1/notifications")
            defer { heldAgain.release(); heldAgain.close() }
            let stopping = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": heldAgain.port],
                environment: ["GATEWAY_RETRIES": "0"]
            )
            let downloading = try RawHTTPConnection(port: stopping.port)
            try downloading.write("GET /api/v1/notifications HTTP/1.1\r\nHost: orderflow.test\r\nAuthorization: \(token)\r\n\r\n")
            let begun = downloading.read(until: { $0.contains(HeldStreamUpstream.firstPart) }, deadline: .seconds(10))
            try #require(begun.contains(HeldStreamUpstream.firstPart), "the first part did not arrive: \(begun)")
            stopping.beginTermination()
            // The listener closes as graceful shutdown begins; the open connection is told then.
            try await Poll.until("the stopping gateway refuses new connections") {
                guard let (descriptor, connected) = try? loopbackConnect(port: stopping.port) else { return false }
                _ = closeDescriptor(descriptor)
                return !connected
            }
            heldAgain.release()
            let ending = downloading.read(until: { $0.hasSuffix("0\r\n\r\n") }, deadline: .seconds(30))
            #expect(ending.contains(HeldStreamUpstream.secondPart) && ending.hasSuffix("0\r\n\r\n"), "the answer under way was cut at shutdown: \(ending)")
            #expect(try await stopping.waitForExit().status == 0)
            try await fleet.stop()
        }

        @Test("an upstream that sends a head and then falls silent does not hold its client: a small body is answered for at the upstream timeout on both paths (a 503 about to be retried too); a streamed one is cut after it, on both paths")
        func stalledAnswers() async throws {
            let fleet = try await UsersAndPayments.start()
            let upstream = try HeldStreamUpstream(path: "/api/v1/notifications")
            defer { upstream.release(); upstream.close() }
            let gateway = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": upstream.port],
                environment: ["GATEWAY_UPSTREAM_TIMEOUT_MS": "1500", "GATEWAY_RETRIES": "1", "GATEWAY_BREAKER_FAILURES": "100"]
            )
            let customer = try await fleet.newCustomer("Stalled", via: gateway)
            let token = try #require(customer.bearer["Authorization"])
            let servedBefore = try await gateway.metric("gateway_fast_path_requests_total ")
            // A plain GET takes the event-loop path; `Connection: close` sends it to the router.
            // A stalled 503 is one the gateway would retry, but its body is not whole by the
            // deadline: on both paths the attempt times out (504), and a timeout is not retried.
            let cases = [
                ("event-loop", "", HeldStreamUpstream.stalledQuery, 504), ("router", "Connection: close\r\n", HeldStreamUpstream.stalledQuery, 504),
                ("event-loop", "", HeldStreamUpstream.stalledUnavailableQuery, 504), ("router", "Connection: close\r\n", HeldStreamUpstream.stalledUnavailableQuery, 504),
            ]
            for (path, extra, query, status) in cases {
                let client = try RawHTTPConnection(port: gateway.port)
                let asked = ContinuousClock.now
                try client.write("GET /api/v1/notifications?\(query) HTTP/1.1\r\nHost: orderflow.test\r\n\(extra)Authorization: \(token)\r\n\r\n")
                let text = client.read(until: { !RawHTTPResponse.parseAll($0).isEmpty }, deadline: .seconds(30))
                let waited = ContinuousClock.now - asked
                let answer = try #require(RawHTTPResponse.parseAll(text).first, "\(path) path: no whole answer after \(waited): \(text)")
                #expect(answer.status == status && answer.headers["content-type"] == "application/problem+json", "\(path) path, ?\(query): \(answer.status) \(answer.body)")
                #expect(!answer.body.contains("stalls"), "\(path) path: none of the cut body reaches the client")
                #expect(waited >= .milliseconds(1_400) && waited < .seconds(12), "\(path) path, ?\(query): answered after \(waited), upstream timeout 1.5 s")
            }

            // The held stream sends its first part and then nothing: the client gets that part,
            // then the gateway closes the connection without the stream's end, on both paths.
            for (path, extra) in [("event-loop", ""), ("router", "Connection: close\r\n")] {
                let streamed = try RawHTTPConnection(port: gateway.port)
                let opened = ContinuousClock.now
                try streamed.write("GET /api/v1/notifications HTTP/1.1\r\nHost: orderflow.test\r\n\(extra)Authorization: \(token)\r\n\r\n")
                let received = streamed.read(until: { _ in false }, deadline: .seconds(30))  // to the close
                let lasted = ContinuousClock.now - opened
                #expect(received.hasPrefix("HTTP/1.1 200") && received.contains(HeldStreamUpstream.firstPart), "\(path) path: \(received)")
                #expect(!received.hasSuffix("0\r\n\r\n"), "\(path) path: a cut stream must not look complete: \(received)")
                #expect(lasted >= .milliseconds(1_400) && lasted < .seconds(12), "\(path) path: the silent stream held its client for \(lasted)")
            }
            #expect(try await gateway.metric("gateway_fast_path_requests_total ") == servedBefore + 3, "three of the six took the event-loop path")

            // A GET pipelined behind a router answer (an event-stream request) that is then cut:
            // nothing may follow a cut answer, so the gateway drops the GET's answer and closes
            // the connection, rather than holding both open until the client leaves.
            let pipelined = try RawHTTPConnection(port: gateway.port)
            let sent = ContinuousClock.now
            try pipelined.write(
                "GET /api/v1/notifications HTTP/1.1\r\nHost: orderflow.test\r\nAccept: text/event-stream\r\nAuthorization: \(token)\r\n\r\n"
                    + "GET /.well-known/jwks.json HTTP/1.1\r\nHost: orderflow.test\r\n\r\n"
            )
            let cut = pipelined.read(until: { _ in false }, deadline: .seconds(30))  // to the close
            let held = ContinuousClock.now - sent
            #expect(cut.hasPrefix("HTTP/1.1 200") && cut.contains(HeldStreamUpstream.firstPart) && !cut.contains("\"keys\""), "\(cut)")
            #expect(held < .seconds(12), "a GET pipelined behind a cut router answer held its connection for \(held)")
            #expect(try await gateway.terminate() == 0)

            // A small body that stalls counts against the breaker once per request on the router
            // path too (it used to count the head as a success first, so the count never grew):
            // two stalled answers open a breaker of threshold 2, and the third request is refused
            // at once.
            let tripping = try await GatewayProcess.start(
                users: fleet.users, payments: fleet.payments, ports: ["notifications": upstream.port],
                environment: ["GATEWAY_UPSTREAM_TIMEOUT_MS": "1500", "GATEWAY_RETRIES": "0", "GATEWAY_BREAKER_FAILURES": "2", "GATEWAY_BREAKER_OPEN_MS": "60000"]
            )
            var outcomes: [String] = []
            for _ in 0..<3 {
                let client = try RawHTTPConnection(port: tripping.port)
                try client.write("GET /api/v1/notifications?\(HeldStreamUpstream.stalledQuery) HTTP/1.1\r\nHost: orderflow.test\r\nConnection: close\r\nAuthorization: \(token)\r\n\r\n")
                let text = client.read(until: { !RawHTTPResponse.parseAll($0).isEmpty }, deadline: .seconds(30))
                let answer = try #require(RawHTTPResponse.parseAll(text).first, "no whole answer: \(text)")
                outcomes.append("\(answer.status) \((try? JSONSerialization.jsonObject(with: Data(answer.body.utf8)) as? [String: Any])?["type"] as? String ?? "")")
            }
            #expect(outcomes == ["504 /problems/upstream-timeout", "504 /problems/upstream-timeout", "503 /problems/upstream-circuit-open"])
            #expect(try await tripping.terminate() == 0)
            try await fleet.stop()
        }

        @Test("error shapes: 413 for an oversized body, 400 problem for malformed JSON, 404 problem for unknown routes, a 500 inside a service carries only the request id; the contract is served")
        func errorShapes() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments)

            let huge = #"{"email":"x@example.org","password":""# + String(repeating: "a", count: 2 * 1_024 * 1_024) + #""}"#
            let tooLarge = try await gateway.request("POST", "/api/v1/users", json: huge)
            #expect(tooLarge.status == 413 && tooLarge.header("Content-Type") == "application/problem+json")
            #expect(try tooLarge.json()["type"] as? String == "/problems/body-too-large")

            let malformed = try await gateway.request("POST", "/api/v1/users", json: #"{"email": "#)
            #expect(malformed.status == 400 && malformed.header("Content-Type") == "application/problem+json")
            #expect(try malformed.json()["errors"] is [[String: Any]])

            for path in ["/api/v1/nothing-here", "/api/v1/users/me/extra/segments", "/not/an/api"] {
                let unknown = try await gateway.request("GET", path)
                #expect(unknown.status == 404 || unknown.status == 401, "\(path): \(unknown.status)")
                #expect(unknown.header("Content-Type") == "application/problem+json", "\(path)")
            }
            #expect(try await gateway.request("GET", "/api/v1/nothing-here").status == 404)

            // A lost privilege makes login fail inside users: the client sees a bare 500 problem.
            let customerEmail = "broken-\(UUID().uuidString.prefix(8).lowercased())@example.org"
            #expect(try await gateway.request("POST", "/api/v1/users", json: #"{"email":"\#(customerEmail)","password":"long enough password","display_name":"B"}"#).status == 201)
            _ = try await AdminDatabase.with { db in try await db.query("REVOKE INSERT ON users.refresh_tokens FROM users") }
            let failed: ServiceProcess.Reply
            do {
                failed = try await gateway.request("POST", "/api/v1/auth/tokens", json: #"{"email":"\#(customerEmail)","password":"long enough password"}"#)
            } catch {
                _ = try? await AdminDatabase.with { db in try await db.query("GRANT INSERT ON users.refresh_tokens TO users") }
                throw error
            }
            _ = try await AdminDatabase.with { db in try await db.query("GRANT INSERT ON users.refresh_tokens TO users") }
            #expect(failed.status == 500)
            let problem = try failed.json()
            #expect(Set(problem.keys).isSubset(of: ["type", "title", "status", "detail", "instance", "request_id"]), "\(problem)")
            #expect(problem["request_id"] as? String == failed.header("X-Request-ID"))
            for leak in ["refresh_tokens", "permission", "SQL", "Postgres", "PSQL", "Swift", ".swift"] {
                #expect(!failed.text.contains(leak), "the 500 leaks \(leak): \(failed.text)")
            }

            let contract = try await gateway.request("GET", "/openapi.yaml")
            #expect(contract.status == 200 && contract.text.hasPrefix("openapi: 3.1"))
            let docs = try await gateway.request("GET", "/docs")
            #expect(docs.status == 200 && docs.text.contains("/openapi.yaml") && docs.header("Content-Type")?.hasPrefix("text/html") == true)
            #expect(contract.header("X-Content-Type-Options") == "nosniff")
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }
    }
}
