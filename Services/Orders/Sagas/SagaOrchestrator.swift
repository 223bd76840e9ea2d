import Contracts
import Foundation
import Logging
import Outbox
import PostgresNIO
import Sagas

/// Runs orders' sagas on top of the pure engine: every input is one transition, persisted with
/// its timeline, and its effects done in the same transaction — commands go to the outbox
/// (with the command id as `ce_id` and the saga id as correlation id), local actions run at
/// once and feed their outcome straight back, and the end of a saga settles the order.
struct SagaOrchestrator: Sendable {
    let sagas: SagaStore
    let orders: OrderStore
    let stock: StockStore
    let outbox: Outbox
    let timing: SagaTiming
    let logger: Logger

    func definition(_ kind: SagaKind) -> SagaDefinition {
        switch kind {
        case .placeOrder: OrderSagas.placeOrder(timing)
        case .cancelOrder: OrderSagas.cancelOrder(timing)
        }
    }

    /// Creates a saga for the order and starts it, inside the caller's transaction. The instance
    /// is written once, after its first transition (which may run local steps and send the first
    /// command): no insert-then-lock-then-update for a row no one else can see yet. The caller
    /// records the returned tally once its transaction has committed.
    func start(_ kind: SagaKind, data: OrderSagaData, on connection: PostgresConnection) async throws -> SagaTally {
        let instance = SagaStore.Instance(id: UUID.v7(), kind: kind, state: .initial, data: data, version: 0)
        var advanced = try await advance(instance, by: .start, on: connection)
        try await sagas.insert(instance, state: advanced.state, deadline: advanced.deadline, timeline: advanced.timeline, on: connection)
        advanced.tally.start(kind)
        advanced.tally.setRunTime(.zero)  // one that ended at once (out of stock) started and finished in this transaction
        return advanced.tally
    }

    /// Applies `input` to saga `id` (locked for the transaction); nil when no such saga exists.
    /// The caller records the returned tally once its transaction has committed.
    func apply(_ input: SagaInput, to id: UUID, on connection: PostgresConnection) async throws -> SagaTally? {
        guard let instance = try await sagas.lock(id, on: connection) else { return nil }
        var advanced = try await advance(instance, by: input, on: connection)
        let ran = try await sagas.save(instance, state: advanced.state, deadline: advanced.deadline, timeline: advanced.timeline, on: connection)
        if let ran, !instance.state.phase.isTerminal {  // finished now, not a late input to a saga already over
            advanced.tally.setRunTime(ran)
        }
        return advanced.tally
    }

    /// What one input did to an instance: its new state, deadline and timeline rows, and the
    /// tally for the metrics.
    struct Advanced {
        var state: SagaState
        var deadline: SagaStore.DeadlineUpdate
        var timeline: [SagaTimelineEntry]
        var tally = SagaTally()
    }

    /// Runs the pure transitions for `input` and their effects — commands to the outbox, local
    /// steps at once (their outcomes fed straight back), the order settled at the end.
    private func advance(_ instance: SagaStore.Instance, by input: SagaInput, on connection: PostgresConnection) async throws -> Advanced {
        let machine = SagaStateMachine(definition: definition(instance.kind))
        // A state stored under another definition (steps removed or reordered since) would
        // index past it: the saga's own fault, postponed by the scan, dead-lettered by replies.
        guard machine.definition.admits(instance.state.phase) else {
            throw UnknownStep(name: "\(instance.state.phase) is not a phase of \(machine.definition.name)")
        }
        var pending: [SagaInput] = [input]
        var advanced = Advanced(state: instance.state, deadline: .keep, timeline: [])
        while !pending.isEmpty {
            let transition = machine.transition(advanced.state, pending.removeFirst()) { UUID.v7() }
            advanced.state = transition.state
            advanced.timeline += transition.timeline
            if !transition.effects.isEmpty { advanced.deadline = .set(after: nil) }  // an ignored input keeps the current wait
            for effect in transition.effects {
                switch effect {
                case .execute(let execution):
                    switch execution.action {
                    case .local:
                        let outcome = try await runLocal(execution.name, instance: instance, on: connection)
                        pending.append(.outcome(commandID: execution.commandID, outcome))
                    case .command:
                        try await send(execution, instance: instance, on: connection)
                        advanced.deadline = .set(after: execution.timeout)
                    }
                case .finished(let outcome):
                    advanced.tally.finish(instance.kind, try await finish(instance, outcome: outcome, on: connection))
                }
            }
        }
        return advanced
    }

    /// Sends a step's command; a retry re-publishes the same message (same `ce_id`).
    private func send(_ execution: SagaExecution, instance: SagaStore.Instance, on connection: PostgresConnection) async throws {
        if execution.attempt > 1, try await outbox.requeue(messageID: execution.commandID, on: connection, logger: logger) { return }
        let data = instance.data
        let saga = instance.id.uuidString.lowercased()
        func append(_ message: some MessageContract) async throws {
            try await outbox.append(message, id: execution.commandID, correlationID: saga, on: connection, logger: logger)
        }
        switch execution.name {
        case "validate_customer":
            try await append(ValidateCustomer(orderID: data.orderID, customerID: data.customerID))
        case "authorize_payment":
            try await append(AuthorizePayment(orderID: data.orderID, customerID: data.customerID, amount: Money(amountMinor: data.totalMinor, currency: data.currency)))
        case "void_payment":
            try await append(VoidPayment(orderID: data.orderID, customerID: data.customerID))
        case "refund_payment":
            try await append(RefundPayment(orderID: data.orderID, customerID: data.customerID))
        default:
            throw UnknownStep(name: execution.name)
        }
    }

    /// The local steps, in the saga's transaction.
    private func runLocal(_ name: String, instance: SagaStore.Instance, on connection: PostgresConnection) async throws -> SagaStepOutcome {
        let data = instance.data
        switch name {
        case "reserve_stock":
            return try await stock.reserve(orderID: data.orderID, lines: data.lines, on: connection)
                ? .succeeded : .failed(reason: OrderRejectionReason.outOfStock.rawValue)
        case "release_stock":
            try await stock.release(orderID: data.orderID, on: connection)
            return .succeeded
        case "approve_order":
            guard try await orders.transition(data.orderID, from: .pending, to: .approved, on: connection) else {
                return .failed(reason: "order is no longer pending")
            }
            try await outbox.append(
                OrderApproved(orderID: data.orderID, customerID: data.customerID, total: Money(amountMinor: data.totalMinor, currency: data.currency), approvedAt: Date()),
                correlationID: instance.id.uuidString.lowercased(), on: connection, logger: logger
            )
            return .succeeded
        case "mark_cancelled":
            guard try await orders.transition(data.orderID, from: .cancelling, to: .cancelled, on: connection) else {
                return .failed(reason: "order is no longer being cancelled")
            }
            try await outbox.append(
                OrderCancelled(orderID: data.orderID, customerID: data.customerID, refunded: Money(amountMinor: data.totalMinor, currency: data.currency), cancelledAt: Date()),
                correlationID: instance.id.uuidString.lowercased(), on: connection, logger: logger
            )
            return .succeeded
        default:
            throw UnknownStep(name: name)
        }
    }

    /// Settles the order when its saga ends; returns how it ended, for the tally.
    private func finish(_ instance: SagaStore.Instance, outcome: SagaOutcome, on connection: PostgresConnection) async throws -> SagaTally.Ending {
        let data = instance.data
        switch (instance.kind, outcome) {
        case (.placeOrder, .succeeded), (.cancelOrder, .succeeded):
            return .succeeded
        case (.placeOrder, .compensated(let reason)):
            let mapped = OrderRejectionReason(rawValue: reason) ?? (reason.contains("timed out") ? .timedOut : .paymentDeclined)
            if try await orders.transition(data.orderID, from: .pending, to: .rejected, reason: mapped.rawValue, detail: reason, on: connection) {
                try await outbox.append(
                    OrderRejected(orderID: data.orderID, customerID: data.customerID, reason: mapped, detail: reason, rejectedAt: Date()),
                    correlationID: instance.id.uuidString.lowercased(), on: connection, logger: logger
                )
            }
            return .compensated
        case (.cancelOrder, .compensated(let reason)):
            logger.error("cancellation gave up; the order stays approved", metadata: ["order.id": "\(data.orderID)", "reason": "\(reason)"])
            _ = try await orders.transition(data.orderID, from: .cancelling, to: .approved, on: connection)
            return .compensated
        case (.placeOrder, .halted(let step, let reason)), (.cancelOrder, .halted(let step, let reason)):
            // From the pivot on nothing is undone and the order is left as it is: what the saga
            // did (a payment, a refund, reserved or released stock) stands, and only a person can
            // say what the order is now.
            logger.critical("saga halted at or past its pivot; an operator must settle the order", metadata: [
                "saga.id": "\(instance.id)", "saga.type": "\(instance.kind.rawValue)", "order.id": "\(data.orderID)",
                "saga.step": "\(step)", "reason": "\(reason)",
            ])
            return .halted
        }
    }

    struct UnknownStep: Error {
        let name: String
    }
}
