import Auth
import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import NIOConcurrencyHelpers
import PostgresNIO
import TestSupport
import Testing

/// users, payments, orders and notifications as real processes against the test stack, the
/// three others verifying users' tokens, and a gateway in front of them: every customer and
/// admin call of the saga tests goes through the gateway (`api`).
struct SystemFleet {
    let core: UsersAndPayments
    private(set) var orders: ServiceProcess
    let notifications: ServiceProcess
    /// The gateway: the only door the tests' customers use.
    let gateway: ServiceProcess
    var api: ServiceProcess { gateway }
    var users: ServiceProcess { core.users }
    var payments: ServiceProcess { core.payments }

    static let mug = "0193a000-0000-7000-8000-000000000003"        // 14.99, plenty in stock
    static let tastingBox = "0193a000-0000-7000-8000-000000000007" // 39.99, 5 in stock
    static let ceremonySet = "0193a000-0000-7000-8000-000000000008" // 299.99: more than a new wallet holds

    /// Starts the four services; `orders` gets short saga timeouts so tests can watch retries.
    static func start(orders extra: [String: String] = [:]) async throws -> SystemFleet {
        let core = try await UsersAndPayments.start(payments: ["PAYMENTS_STARTING_BALANCE_MINOR": "10000", "PAYMENTS_ORDER_LIMIT_MINOR": "50000"])
        let orders = try await core.startVerifying("orders", extra: ["SAGA_STEP_TIMEOUT_MS": "5000", "SAGA_STEP_ATTEMPTS": "3"].merging(extra) { $1 })
        let notifications = try await core.startVerifying("notifications", extra: ["NOTIFICATIONS_HEARTBEAT_MS": "1000"])
        // Payments restarts during some tests (on a new port): the gateway finds it on a fixed
        // one, so restartPayments keeps that port.
        let gateway = try await GatewayProcess.start(
            users: core.users, orders: orders, payments: core.payments, notifications: notifications,
            environment: ["GATEWAY_BREAKER_OPEN_MS": "500"]
        )
        try await Poll.until("the gateway is ready") { await gateway.get("health/ready")?.status == 200 }
        return SystemFleet(core: core, orders: orders, notifications: notifications, gateway: gateway)
    }

    mutating func restartPayments() async throws {
        var core = self.core
        try await core.restartPayments(["PAYMENTS_STARTING_BALANCE_MINOR": "10000", "PAYMENTS_ORDER_LIMIT_MINOR": "50000", "HTTP_PORT": String(payments.port)])
        self = SystemFleet(core: core, orders: orders, notifications: notifications, gateway: gateway)
    }

    /// Registers and logs in a customer through the gateway.
    func newCustomer(_ name: String = "Test Customer") async throws -> Customer {
        try await core.newCustomer(name, via: gateway)
    }

    /// The customer's balance, read through the gateway.
    func walletBalance(of customer: Customer) async throws -> Int64 {
        try await core.walletBalance(of: customer, via: gateway)
    }

    /// The bootstrap administrator's access token, through the gateway.
    func adminToken() async throws -> String {
        try await core.adminToken(via: gateway)
    }

    func stop() async throws {
        _ = try await gateway.terminate()
        _ = try await notifications.terminate()
        _ = try await orders.terminate()
        try await core.stop()
    }

    /// Places an order; returns the reply (202 expected) and the order id.
    func place(_ customer: Customer, _ items: [(String, Int)], key: String = UUID().uuidString) async throws -> (ServiceProcess.Reply, String) {
        let lines = items.map { #"{"product_id":"\#($0.0)","quantity":\#($0.1)}"# }.joined(separator: ",")
        let reply = try await api.request("POST", "/api/v1/orders", headers: customer.bearer.merging(["Idempotency-Key": key]) { $1 },
                                             json: #"{"items":[\#(lines)]}"#)
        try #require(reply.status == 202, "place order: \(reply.status) \(reply.text)")
        return (reply, try #require(try reply.json()["id"] as? String))
    }

    /// Waits until the order reaches a terminal status and returns the order.
    func settled(_ orderID: String, for customer: Customer, deadline: Duration = .seconds(120)) async throws -> [String: Any] {
        let holder = OrderHolder()
        try await Poll.until("order \(orderID) settles", deadline: deadline) {
            let reply = try await api.request("GET", "/api/v1/orders/\(orderID)", headers: customer.bearer)
            guard reply.status == 200, let order = try? reply.json(), let status = order["status"] as? String else { return false }
            guard ["approved", "rejected", "cancelled"].contains(status) else { return false }
            holder.value = order
            return true
        }
        let order = holder.value
        return try #require(order)
    }

    /// The saga timeline of an order (kinds and steps), for assertions and failure messages.
    func timeline(_ orderID: String, for customer: Customer) async throws -> [[String: Any]] {
        let reply = try await api.request("GET", "/api/v1/orders/\(orderID)/saga", headers: customer.bearer)
        let sagas = try reply.json()["sagas"] as? [[String: Any]] ?? []
        return sagas.flatMap { ($0["steps"] as? [[String: Any]]) ?? [] }
    }

    /// The entries of `timeline` of `kind` about `step` (`timed_out` of `authorize_payment`, …).
    static func entries(_ timeline: [[String: Any]], _ kind: String, of step: String) -> [[String: Any]] {
        timeline.filter { $0["kind"] as? String == kind && $0["step"] as? String == step }
    }

    /// Checks orders' saga counters against the database: `sagas_started_total{saga}`,
    /// `sagas_finished_total{saga,outcome}` and the count of `saga_duration_seconds{saga,outcome}`
    /// on this fleet's orders process equal the sagas of `ids`, by kind and ending, which must be
    /// every saga that process ran. Polled: the counters are recorded just after each transaction
    /// commits.
    func checkSagaCounters(orders ids: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let orderIDs = ids.compactMap(UUID.init(uuidString:))
        let expected = try await AdminDatabase.with { client in
            var expected: [String: Int64] = [:]
            for kind in ["place_order", "cancel_order"] {
                expected["started \(kind)"] = try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.saga_instances WHERE order_id = ANY(\(orderIDs)) AND saga_type = \(kind)
                    """, on: client)
                for ending in ["succeeded", "compensated", "halted"] {
                    let finished = try await AdminDatabase.scalar("""
                        SELECT count(*) FROM orders.saga_instances WHERE order_id = ANY(\(orderIDs)) AND saga_type = \(kind) AND phase = \(ending)
                        """, on: client)
                    expected["\(ending) \(kind)"] = finished
                    expected["timed \(ending) \(kind)"] = finished  // each finished saga's run time, in saga_duration_seconds
                }
            }
            return expected
        }
        let orders = self.orders
        let counted: @Sendable () async throws -> [String: Int64] = {
            var counted: [String: Int64] = [:]
            for kind in ["place_order", "cancel_order"] {
                counted["started \(kind)"] = Int64(try await orders.metric("sagas_started_total", labels: [#"saga="\#(kind)""#]))
                for ending in ["succeeded", "compensated", "halted"] {
                    let labels = [#"saga="\#(kind)""#, #"outcome="\#(ending)""#]
                    counted["\(ending) \(kind)"] = Int64(try await orders.metric("sagas_finished_total", labels: labels))
                    counted["timed \(ending) \(kind)"] = Int64(try await orders.metric("saga_duration_seconds_count", labels: labels))
                }
            }
            return counted
        }
        let wanted = expected
        do {
            try await Poll.until("orders' saga counters match the database: \(wanted)") { try await counted() == wanted }
        } catch {
            let lines = (try? await orders.metricLines("sagas_")) ?? []
            Issue.record("saga counters \(try await counted()) against the database's \(wanted); orders' lines: \(lines)",
                         sourceLocation: sourceLocation)
        }
    }

    /// Stock of a product, from the catalogue.
    func stock(of product: String) async throws -> Int {
        var cursor: String?
        repeat {
            let reply = try await api.request("GET", "/api/v1/products?limit=100" + (cursor.map { "&cursor=\($0)" } ?? ""))
            let page = try reply.json()
            for item in page["data"] as? [[String: Any]] ?? [] where item["id"] as? String == product {
                return try #require(item["stock"] as? Int)
            }
            cursor = page["next_cursor"] as? String
        } while cursor != nil
        throw AdminDatabase.Missing()
    }
}

final class OrderHolder: @unchecked Sendable {
    // @unchecked: written by one polling closure, read after it returns.
    var value: [String: Any]?
}

/// The invariants DESIGN.md names, checked in SQL over the orders given.
enum SagaInvariants {
    static func check(orders ids: [String], sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let orderIDs = ids.compactMap(UUID.init(uuidString:))
        let violations = try await AdminDatabase.with { client in
            [
                "orders not terminal": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.orders WHERE id = ANY(\(orderIDs)) AND status NOT IN ('approved', 'rejected', 'cancelled')
                    """, on: client),
                "unbalanced ledger transactions": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM (SELECT transaction_id FROM payments.ledger_entries GROUP BY transaction_id HAVING sum(amount_minor) <> 0) t
                    """, on: client),
                "wallets whose balance is not the sum of their entries, or negative": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM payments.accounts a WHERE a.kind = 'wallet' AND (a.balance_minor IS NULL OR a.balance_minor < 0
                       OR a.balance_minor <> coalesce((SELECT sum(e.amount_minor) FROM payments.ledger_entries e WHERE e.account_id = a.id), 0))
                    """, on: client),
                "approved orders not charged exactly once": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.orders o WHERE o.id = ANY(\(orderIDs)) AND o.status = 'approved' AND (
                        (SELECT count(*) FROM payments.ledger_transactions t WHERE t.reference = 'order:' || o.id::text AND t.kind = 'authorization') <> 1
                        OR (SELECT count(*) FROM payments.ledger_transactions t WHERE t.reference = 'order:' || o.id::text AND t.kind <> 'authorization') <> 0
                        OR NOT EXISTS (SELECT 1 FROM payments.payments p WHERE p.order_id = o.id AND p.status = 'authorized' AND p.amount_minor = o.total_minor))
                    """, on: client),
                "rejected or cancelled orders that do not net to zero on the wallet": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.orders o WHERE o.id = ANY(\(orderIDs)) AND o.status IN ('rejected', 'cancelled') AND coalesce((
                        SELECT sum(e.amount_minor) FROM payments.ledger_entries e JOIN payments.ledger_transactions t ON t.id = e.transaction_id
                        JOIN payments.accounts a ON a.id = e.account_id
                        WHERE t.reference = 'order:' || o.id::text AND a.kind = 'wallet'), 0) <> 0
                    """, on: client),
                "products whose stock is not conserved": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.products p WHERE p.stock + coalesce((
                        SELECT sum(r.quantity) FROM orders.stock_reservations r WHERE r.product_id = p.id AND r.released_at IS NULL), 0) <> p.stock_added
                    """, on: client),
                "sagas whose finished_at moved after their finish (a late input rewrote it)": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.saga_instances s WHERE s.order_id = ANY(\(orderIDs)) AND s.finished_at > (
                        SELECT max(t.at) FROM orders.saga_steps t WHERE t.saga_id = s.id AND t.kind = 'finished')
                    """, on: client),
                "rejected or cancelled orders still holding stock": try await AdminDatabase.scalar("""
                    SELECT count(*) FROM orders.stock_reservations r JOIN orders.orders o ON o.id = r.order_id
                    WHERE o.id = ANY(\(orderIDs)) AND o.status IN ('rejected', 'cancelled') AND r.released_at IS NULL
                    """, on: client),
            ]
        }
        for (name, count) in violations { #expect(count == 0, "\(name): \(count)", sourceLocation: sourceLocation) }
    }
}

/// Reads a Server-Sent Events stream into lines, in the background.
final class EventStreamReader: NSObject, URLSessionDataDelegate, @unchecked Sendable {
    // @unchecked: `buffer` is guarded by `lock`; URLSession calls the delegate on its own queue.
    private let lock = NSLock()
    private var buffer = ""
    private var session: URLSession?
    private var task: URLSessionDataTask?

    init(url: URL, bearer: String, lastEventID: String? = nil) {
        super.init()
        var request = URLRequest(url: url)
        request.setValue("Bearer \(bearer)", forHTTPHeaderField: "Authorization")
        request.setValue("text/event-stream", forHTTPHeaderField: "Accept")
        if let lastEventID { request.setValue(lastEventID, forHTTPHeaderField: "Last-Event-ID") }
        request.timeoutInterval = 300
        let session = URLSession(configuration: .default, delegate: self, delegateQueue: nil)
        self.session = session
        task = session.dataTask(with: request)
        task?.resume()
    }

    func urlSession(_ session: URLSession, dataTask: URLSessionDataTask, didReceive data: Data) {
        lock.withLock { buffer += String(decoding: data, as: UTF8.self) }
    }

    func urlSession(_ session: URLSession, task: URLSessionTask, didCompleteWithError error: (any Error)?) {
        lock.withLock { completed = true }
    }

    private var completed = false
    /// Whether the stream has ended (the server closed it, or it failed).
    var ended: Bool { lock.withLock { completed } }

    var text: String { lock.withLock { buffer } }

    /// The `data:` payloads of the events received so far.
    var events: [String] {
        text.components(separatedBy: "\n").filter { $0.hasPrefix("data: ") }.map { String($0.dropFirst(6)) }
    }

    /// The `id:`s of the events received so far, in the order they came.
    var ids: [Int64] {
        text.components(separatedBy: "\n").filter { $0.hasPrefix("id: ") }.compactMap { Int64($0.dropFirst(4)) }
    }

    func close() {
        task?.cancel()
        session?.invalidateAndCancel()
    }
}
