import Auth
import Contracts
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// The orders HTTP API: the catalogue, placing and cancelling orders, and their saga timelines.
struct OrdersAPI: Sendable {
    let client: PostgresClient
    let orders: OrderStore
    let orchestrator: SagaOrchestrator
    let authenticator: Authenticator
    let logger: Logger

    func addRoutes(to router: Router<AppRequestContext>) {
        let api = router.group("api/v1")
        api.get("products") { request, _ in try await products(request) }
        api.post("orders") { request, _ in try await place(request) }
        api.get("orders") { request, _ in try await list(request) }
        api.get("orders/:id") { request, context in try await show(request, id: try context.uuidParameter("id")) }
        api.post("orders/:id/cancel") { request, context in try await cancel(request, id: try context.uuidParameter("id")) }
        api.get("orders/:id/saga") { request, context in try await timeline(request, id: try context.uuidParameter("id")) }
    }

    private func products(_ request: Request) async throws -> Response {
        let page = try PageRequest.parse(request)
        let rows = try await client.query("""
            SELECT id, sku, name, price_minor, currency, stock FROM orders.products
            WHERE (\(page.after)::text IS NULL OR sku > \(page.after)) ORDER BY sku LIMIT \(page.limit + 1)
            """, logger: logger)
        var products: [Product] = []
        for try await (id, sku, name, price, currency, stock) in rows.decode((UUID, String, String, Int64, String, Int).self) {
            products.append(Product(id: id.uuidString.lowercased(), sku: sku, name: name, price: Money(amountMinor: price, currency: currency), stock: stock))
        }
        return try JSONBody.response(Page(rows: products, request: page) { $0.sku })
    }

    /// Places an order once per `Idempotency-Key`: 202 with the order (usually `pending`; the
    /// saga decides), the same order again for a repeat, 422 for the key with another body,
    /// 409 while the first request is still running.
    private func place(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let key = try IdempotencyKey.require(in: request)
        var request = request
        let raw = Data(buffer: try await request.collectBody(upTo: JSONBody.maximumRequestBytes))
        let body = try JSONBody.decode(PlaceOrderRequest.self, from: raw)
        try OrderRules.validate(body)
        let hash = Data(SHA256.hash(data: raw))
        let (order, replayed) = try await client.withTransaction(logger: logger) { connection -> (Order, Bool) in
            try await IdempotencyKey.lock(key, scope: "order", owner: identity.userID, on: connection, logger: logger)
            if let (existing, storedHash) = try await orders.byIdempotencyKey(key, customerID: identity.userID, on: connection) {
                guard storedHash == hash else { throw IdempotencyKey.reusedWithDifferentBody }
                guard let order = try await orders.find(existing, on: connection) else { throw ProblemDetails(status: .notFound) }
                return (order, true)
            }
            let prices = try await orders.prices(of: body.items.map(\.productID), on: connection)
            var unknown: [ProblemDetails.FieldError] = []
            for (index, line) in body.items.enumerated() where prices[line.productID] == nil {
                unknown.append(.init(field: "items[\(index)].product_id", message: "is not in the catalogue"))
            }
            guard unknown.isEmpty else {
                throw ProblemDetails(status: .unprocessableContent, type: "/problems/unknown-product", title: "Unknown product",
                                     detail: "Some items are not in the catalogue.", errors: unknown)
            }
            let lines = body.items.compactMap { line in prices[line.productID].map { ($0, line.quantity) } }
            guard Set(lines.map(\.0.currency)).count == 1 else {
                throw ProblemDetails(status: .unprocessableContent, type: "/problems/mixed-currencies", title: "Mixed currencies",
                                     detail: "All items of an order must be priced in one currency.")
            }
            let id = UUID.v7()
            try await orders.insert(id: id, customerID: identity.userID, lines: lines, key: key, requestHash: hash, on: connection)
            let total = lines.reduce(Int64(0)) { $0 + $1.0.unitPriceMinor * Int64($1.1) }
            let currency = lines[0].0.currency
            try await orchestrator.outbox.append(
                OrderCreated(orderID: id, customerID: identity.userID,
                             items: lines.map { OrderLine(productID: $0.0.productID, quantity: $0.1, unitPrice: Money(amountMinor: $0.0.unitPriceMinor, currency: currency)) },
                             total: Money(amountMinor: total, currency: currency), createdAt: Date()),
                on: connection, logger: logger
            )
            try await orchestrator.start(.placeOrder, data: OrderSagaData(
                orderID: id, customerID: identity.userID, totalMinor: total, currency: currency,
                lines: lines.map { OrderSagaData.Line(productID: $0.0.productID, quantity: $0.1) }
            ), on: connection)
            guard let order = try await orders.find(id, on: connection) else { throw ProblemDetails(status: .notFound) }
            return (order, false)
        }
        var headers: HTTPFields = [.location: "/api/v1/orders/\(order.id)"]
        if replayed { headers[.idempotentReplayed] = "true" }
        return try JSONBody.response(order, status: .accepted, headers: headers)
    }

    private func list(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let page = try PageRequest.parse(request)
        var status: OrderStatus?
        if let raw = request.uri.queryParameters.get("status") {
            guard let parsed = OrderStatus(rawValue: String(raw)) else {
                throw ProblemDetails.validation([.init(field: "status", message: "must be one of \(OrderStatus.allCases.map(\.rawValue).joined(separator: ", "))")])
            }
            status = parsed
        }
        let before = try page.position { UUID(uuidString: $0) }
        let found = try await client.withConnection { connection in
            try await orders.list(customerID: identity.isAdmin ? nil : identity.userID, status: status, before: before, limit: page.limit + 1, on: connection)
        }
        return try JSONBody.response(Page(rows: found, request: page) { $0.id })
    }

    private func show(_ request: Request, id: UUID) async throws -> Response {
        try JSONBody.response(try await visibleOrder(id, to: try await authenticator.identity(of: request)))
    }

    /// Starts CancelOrder for an approved order: 202 with the order `cancelling`.
    private func cancel(_ request: Request, id: UUID) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let current = try await visibleOrder(id, to: identity)
        let order = try await client.withTransaction(logger: logger) { connection -> Order in
            guard try await orders.transition(id, from: .approved, to: .cancelling, on: connection) else {
                throw ProblemDetails(status: .conflict, type: "/problems/not-cancellable", title: "Not cancellable",
                                     detail: "Only an approved order can be cancelled; this one is \(current.status.rawValue).")
            }
            let lines = current.items.compactMap { item in UUID(uuidString: item.productID).map { OrderSagaData.Line(productID: $0, quantity: item.quantity) } }
            try await orchestrator.start(.cancelOrder, data: OrderSagaData(
                orderID: id, customerID: UUID(uuidString: current.customerID) ?? identity.userID, totalMinor: current.total.amountMinor,
                currency: current.total.currency, lines: lines
            ), on: connection)
            guard let order = try await orders.find(id, on: connection) else { throw ProblemDetails(status: .notFound) }
            return order
        }
        return try JSONBody.response(order, status: .accepted)
    }

    /// The sagas of the order with their step-by-step timelines.
    private func timeline(_ request: Request, id: UUID) async throws -> Response {
        _ = try await visibleOrder(id, to: try await authenticator.identity(of: request))
        let sagas = try await client.withConnection { connection in try await SagaTimelineQuery(logger: logger).sagas(of: id, on: connection) }
        return try JSONBody.response(OrderSagasResource(orderID: id.uuidString.lowercased(), sagas: sagas))
    }

    /// The order, if the identity may see it (its customer or an admin); 404 otherwise.
    private func visibleOrder(_ id: UUID, to identity: Identity) async throws -> Order {
        let order = try await client.withConnection { connection in try await orders.find(id, on: connection) }
        guard let order, identity.isAdmin || order.customerID == identity.userID.uuidString.lowercased() else {
            throw ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such order.")
        }
        return order
    }
}

struct Product: Encodable, Sendable {
    let id: String
    let sku: String
    let name: String
    let price: Money
    let stock: Int
}

/// The body of `GET /api/v1/orders/{id}/saga`.
struct OrderSagasResource: Encodable, Sendable {
    let orderID: String
    let sagas: [SagaTimelineQuery.Saga]

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", sagas
    }
}
