import Auth
import Contracts
import Foundation
import HummingbirdCore
import Logging
import OpenAPIRuntime
import PostgresNIO
import ServiceKit

/// The orders HTTP API — the catalogue, the caller's orders, cancelling, and saga timelines —
/// as the implementation of the `APIProtocol` generated from the `orders` tag of the contract
/// (`openapi-generator-config.yaml`). Placing an order is in `OrdersAPI+PlaceOrder.swift`.
struct OrdersAPI: APIProtocol {
    let client: PostgresClient
    let orders: OrderStore
    let orchestrator: SagaOrchestrator
    let logger: Logger

    /// Who may call each operation (``OperationAccess``); the gate verifies before the request is read.
    static let access: [String: OperationAccess] = [
        Operations.listProducts.id: .anonymous, Operations.listOrders.id: .authenticated, Operations.placeOrder.id: .authenticated,
        Operations.getOrder.id: .authenticated, Operations.cancelOrder.id: .authenticated, Operations.getOrderSaga.id: .authenticated,
    ]

    /// The checks the generated code cannot express (see ``RequestPrecheck``).
    static let prechecks: [String: [RequestPrecheck]] = [
        Operations.listProducts.id: [.page], Operations.listOrders.id: [.page, .orderStatus, .orderInclude], Operations.placeOrder.id: [.idempotencyKey],
    ]

    func listProducts(_ input: Operations.listProducts.Input) async throws -> Operations.listProducts.Output {
        let page = try PageRequest.parse(limit: input.query.limit, cursor: input.query.cursor)
        let rows = try await client.query("""
            SELECT id, sku, name, price_minor, currency, stock FROM orders.products
            WHERE (\(page.after)::text IS NULL OR sku > \(page.after)) ORDER BY sku LIMIT \(page.limit + 1)
            """, logger: logger)
        var products: [Product] = []
        for try await (id, sku, name, price, currency, stock) in rows.decode((UUID, String, String, Int64, String, Int).self) {
            products.append(Product(id: id.uuidString.lowercased(), sku: sku, name: name, price: Money(amountMinor: price, currency: currency), stock: stock))
        }
        let body = Page(rows: products, request: page) { $0.sku }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(body))))
    }

    /// The caller's orders (everyone's for an admin), newest first, optionally by status; with
    /// `include=sagas` each with its sagas and their timelines.
    func listOrders(_ input: Operations.listOrders.Input) async throws -> Operations.listOrders.Output {
        let identity = try Identity.caller()
        let page = try PageRequest.parse(limit: input.query.limit, cursor: input.query.cursor)
        // The same values on both sides (the `orderStatus` precheck has already refused others).
        let status = try input.query.status.map { try ContractServer.bridge(request: $0, to: OrderStatus.self) }
        let withSagas = input.query.include == .sagas
        let before = try page.position { UUID(uuidString: $0) }
        let customerID = identity.isAdmin ? nil : identity.userID
        let listPage = { @Sendable (connection: PostgresConnection) async throws -> [Order] in
            try await orders.list(customerID: customerID, status: status, before: before, limit: page.limit + 1, on: connection)
        }
        let found: [ListedOrder]
        if withSagas {
            // One snapshot for the orders and their sagas: a page never shows a saga ahead of its order.
            found = try await client.withCheckedTransaction(logger: logger, access: .readOnlySnapshot) { connection -> [ListedOrder] in
                let found = try await listPage(connection)
                let shown = found.prefix(page.limit).compactMap { UUID(uuidString: $0.id) }  // not the look-ahead row
                let sagas = try await SagaTimelineQuery(logger: logger).sagas(ofOrders: shown, on: connection)
                return found.map { order in ListedOrder(order: order, sagas: UUID(uuidString: order.id).flatMap { sagas[$0] } ?? []) }
            }
        } else {
            found = try await client.withConnection(listPage).map { ListedOrder(order: $0, sagas: nil) }
        }
        let body = Page(rows: found, request: page) { $0.order.id }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(body))))
    }

    func getOrder(_ input: Operations.getOrder.Input) async throws -> Operations.getOrder.Output {
        let identity = try Identity.caller()
        let order = try await visibleOrder(try UUID.pathParameter(input.path.id, name: "id"), to: identity)
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(order))))
    }

    /// Starts CancelOrder for an approved order: 202 with the order `cancelling`.
    func cancelOrder(_ input: Operations.cancelOrder.Input) async throws -> Operations.cancelOrder.Output {
        let identity = try Identity.caller()
        let id = try UUID.pathParameter(input.path.id, name: "id")
        let current = try await visibleOrder(id, to: identity)
        let (order, tally) = try await client.withTransaction(logger: logger) { connection -> (Order, SagaTally) in
            guard try await orders.transition(id, from: .approved, to: .cancelling, on: connection) else {
                // The status it has now: a cancel racing this one may have moved it since `current`.
                let now = try await orders.find(id, on: connection)?.status ?? current.status
                throw ProblemDetails(status: .conflict, type: "/problems/not-cancellable", title: "Not cancellable",
                                     detail: "Only an approved order can be cancelled; this one is \(now.rawValue).")
            }
            let lines = current.items.compactMap { item in UUID(uuidString: item.productID).map { OrderSagaData.Line(productID: $0, quantity: item.quantity) } }
            let tally = try await orchestrator.start(.cancelOrder, data: OrderSagaData(
                orderID: id, customerID: UUID(uuidString: current.customerID) ?? identity.userID, totalMinor: current.total.amountMinor,
                currency: current.total.currency, lines: lines
            ), on: connection)
            guard let order = try await orders.find(id, on: connection) else { throw ProblemDetails(status: .notFound) }
            return (order, tally)
        }
        tally.record()
        return .accepted(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(order))))
    }

    /// The sagas of the order with their step-by-step timelines.
    func getOrderSaga(_ input: Operations.getOrderSaga.Input) async throws -> Operations.getOrderSaga.Output {
        let identity = try Identity.caller()
        let id = try UUID.pathParameter(input.path.id, name: "id")
        _ = try await visibleOrder(id, to: identity)
        let sagas = try await client.withConnection { connection in try await SagaTimelineQuery(logger: logger).sagas(of: id, on: connection) }
        let body = OrderSagasResource(orderID: id.uuidString.lowercased(), sagas: sagas)
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(body))))
    }

    /// The order, if the identity may see it (its customer or an admin); 404 otherwise.
    func visibleOrder(_ id: UUID, to identity: Identity) async throws -> Order {
        let order = try await client.withConnection { connection in try await orders.find(id, on: connection) }
        guard let order, identity.isAdmin || order.customerID == identity.userID.uuidString.lowercased() else {
            throw ProblemDetails(status: .notFound, type: "/problems/not-found", title: "Not found", detail: "No such order.")
        }
        return order
    }
}

extension RequestPrecheck {
    /// `status` of `GET /api/v1/orders`: one of ``OrderStatus``, else a 400 naming the field
    /// (the runtime's own decoding error for an unknown enum value names no parameter).
    static let orderStatus = RequestPrecheck.oneOf(queryParameter: "status", values: OrderStatus.allCases.map(\.rawValue))

    /// `include` of `GET /api/v1/orders`: only `sagas`.
    static let orderInclude = RequestPrecheck.oneOf(queryParameter: "include", values: ["sagas"])
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
