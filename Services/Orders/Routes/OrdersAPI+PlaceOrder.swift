import Auth
import Contracts
import Crypto
import Foundation
import OpenAPIRuntime
import PostgresNIO
import ServiceKit

extension OrdersAPI {
    /// Places an order once per `Idempotency-Key`: 202 with the order (usually `pending`; the
    /// saga decides), the same order again for a repeat, 422 for the key with another body,
    /// 409 while the first request is still running. The order, the key with the body's
    /// fingerprint, the `order_created` event and the saga's start commit in one transaction.
    /// The fingerprint is taken over the decoded body, so spacing and key order do not make a
    /// body "different".
    func placeOrder(_ input: Operations.placeOrder.Input) async throws -> Operations.placeOrder.Output {
        let identity = try Identity.caller()
        // The header as sent: the generated `Input` holds it percent-decoded ("50%off" → "").
        let key = try IdempotencyKey.require(in: CurrentRequest.headerFields)
        guard case .json(let generated) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        // Through the domain type, whose decoding checks the product ids are UUIDs.
        let body = try ContractServer.bridge(request: generated, to: PlaceOrderRequest.self)
        try OrderRules.validate(body)
        let fingerprint = Data(SHA256.hash(data: try JSONBody.encoder.encode(body)))
        let (order, tally) = try await client.withTransaction(logger: logger) { connection -> (Order, SagaTally?) in
            try await IdempotencyKey.lock(key, scope: "order", owner: identity.userID, on: connection, logger: logger)
            if let (existing, storedFingerprint) = try await orders.byIdempotencyKey(key, customerID: identity.userID, on: connection) {
                guard storedFingerprint == fingerprint else { throw IdempotencyKey.reusedWithDifferentBody }
                guard let order = try await orders.find(existing, on: connection) else { throw ProblemDetails(status: .notFound) }
                return (order, nil)  // a replay: no saga started
            }
            return try await create(body, for: identity.userID, key: key, fingerprint: fingerprint, on: connection)
        }
        tally?.record()
        let replayed = tally == nil
        let headers = Operations.placeOrder.Output.Accepted.Headers(
            X_hyphen_Request_hyphen_ID: CurrentRequest.requestID, Location: "/api/v1/orders/\(order.id)",
            Idempotent_hyphen_Replayed: replayed ? ._true : nil)
        return .accepted(.init(headers: headers, body: .json(try ContractServer.bridge(order))))
    }

    /// Prices the lines from the catalogue (422 for unknown products or mixed currencies),
    /// stores the order `pending`, appends `order_created` and starts PlaceOrder; returns the
    /// order and the saga tally to record once the transaction has committed.
    private func create(_ body: PlaceOrderRequest, for customerID: UUID, key: String, fingerprint: Data,
                        on connection: PostgresConnection) async throws -> (Order, SagaTally) {
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
        try await orders.insert(id: id, customerID: customerID, lines: lines, key: key, requestHash: fingerprint, on: connection)
        let total = lines.reduce(Int64(0)) { $0 + $1.0.unitPriceMinor * Int64($1.1) }
        let currency = lines[0].0.currency
        try await orchestrator.outbox.append(
            OrderCreated(orderID: id, customerID: customerID,
                         items: lines.map { OrderLine(productID: $0.0.productID, quantity: $0.1, unitPrice: Money(amountMinor: $0.0.unitPriceMinor, currency: currency)) },
                         total: Money(amountMinor: total, currency: currency), createdAt: Date()),
            on: connection, logger: logger
        )
        let tally = try await orchestrator.start(.placeOrder, data: OrderSagaData(
            orderID: id, customerID: customerID, totalMinor: total, currency: currency,
            lines: lines.map { OrderSagaData.Line(productID: $0.0.productID, quantity: $0.1) }
        ), on: connection)
        guard let order = try await orders.find(id, on: connection) else { throw ProblemDetails(status: .notFound) }
        return (order, tally)
    }
}
