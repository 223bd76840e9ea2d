import Foundation
import Sagas

/// The two sagas orders runs. Read them top to bottom: that is the flow.
enum OrderSagas {
    /// PlaceOrder: reserve stock → validate customer → authorize payment → approve; on a failure
    /// the completed steps are undone newest first (void payment, release stock). Approving is
    /// the pivot: once the order is approved (and `order_approved` published) nothing is undone.
    static func placeOrder(_ timing: SagaTiming) -> SagaDefinition {
        SagaDefinition(name: SagaKind.placeOrder.rawValue, steps: [
            SagaStep(name: "reserve_stock", action: .local,
                     compensation: SagaCompensation(name: "release_stock", action: .local)),
            SagaStep(name: "validate_customer", action: .command(participant: "users"),
                     timeout: timing.stepTimeout, retry: timing.retry),
            SagaStep(name: "authorize_payment", action: .command(participant: "payments"),
                     compensation: SagaCompensation(name: "void_payment", action: .command(participant: "payments")),
                     timeout: timing.stepTimeout, retry: timing.retry),
            SagaStep(name: "approve_order", action: .local),
        ], pivot: "approve_order")
    }

    /// CancelOrder (an approved order): refund → release stock → cancelled. The refund is the
    /// pivot: it cannot be undone, so it is re-sent until payments answers (a refund whose reply
    /// is late may still happen; giving up would put the order back to approved while payments
    /// later refunds it). Refused, nothing has moved and the order is approved again; done, the
    /// steps after it must happen, and if one fails the saga halts for an operator instead of
    /// walking back over a refund.
    static func cancelOrder(_ timing: SagaTiming) -> SagaDefinition {
        SagaDefinition(name: SagaKind.cancelOrder.rawValue, steps: [
            SagaStep(name: "refund_payment", action: .command(participant: "payments"), timeout: timing.stepTimeout,
                     retry: .untilAnswered(maximumTimeout: timing.retry.maximumTimeout)),
            SagaStep(name: "release_stock", action: .local),
            SagaStep(name: "mark_cancelled", action: .local),
        ], pivot: "refund_payment")
    }
}

/// The kinds of saga, as stored in `saga_instances.saga_type`.
enum SagaKind: String, Sendable, Codable, CaseIterable {
    case placeOrder = "place_order"
    case cancelOrder = "cancel_order"
}

/// How long saga steps wait and how often they are retried (`SAGA_STEP_TIMEOUT_MS`,
/// `SAGA_STEP_ATTEMPTS`).
struct SagaTiming: Sendable {
    var stepTimeout: Duration = .seconds(10)
    var retry = SagaRetryPolicy(maximumAttempts: 3, maximumTimeout: .seconds(60))
}

/// What a saga instance carries besides its engine state.
struct OrderSagaData: Codable, Sendable {
    let orderID: UUID
    let customerID: UUID
    let totalMinor: Int64
    let currency: String
    let lines: [Line]

    struct Line: Codable, Sendable {
        let productID: UUID
        let quantity: Int
    }

    enum CodingKeys: String, CodingKey {
        case orderID = "order_id", customerID = "customer_id", totalMinor = "total_minor", currency, lines
    }
}
