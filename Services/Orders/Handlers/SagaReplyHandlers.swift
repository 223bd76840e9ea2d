import Contracts
import Foundation
import Metrics
import Outbox
import Sagas

/// Turns participants' replies into saga inputs. The saga is named by the reply's
/// correlation id, the awaited command by its causation id; the engine ignores anything that
/// is not the awaited command's answer.
struct SagaReplyHandlers: Sendable {
    let orchestrator: SagaOrchestrator

    func register(in handlers: inout MessageHandlers) {
        handlers.on(CustomerValidatedReply.self) { _, context in try await deliver(.succeeded, context) }
        handlers.on(CustomerRejectedReply.self) { reply, context in
            let reason: OrderRejectionReason = switch reply.reason {
            case .unknownCustomer: .customerUnknown
            case .suspended: .customerSuspended
            }
            try await deliver(.failed(reason: reason.rawValue), context)
        }
        handlers.on(PaymentAuthorizedReply.self) { _, context in try await deliver(.succeeded, context) }
        handlers.on(PaymentDeclinedReply.self) { reply, context in
            let reason: OrderRejectionReason = switch reply.reason {
            case .insufficientFunds: .insufficientFunds
            case .overLimit: .overLimit
            case .noWallet, .injectedFault: .paymentDeclined
            }
            try await deliver(.failed(reason: reason.rawValue), context)
        }
        handlers.on(PaymentVoidedReply.self) { _, context in try await deliver(.succeeded, context) }
        handlers.on(PaymentRefundedReply.self) { _, context in try await deliver(.succeeded, context) }
        handlers.on(PaymentRefundRefusedReply.self) { reply, context in
            try await deliver(.failed(reason: "refund_refused: \(reply.reason)"), context)
        }
    }

    private func deliver(_ outcome: SagaStepOutcome, _ context: HandlerContext) async throws {
        guard let saga = context.event.correlationID.flatMap(UUID.init(uuidString:)),
              let command = context.event.causationID.flatMap(UUID.init(uuidString:))
        else {
            throw PermanentFailure("reply \(context.event.type) carries no saga (correlation_id) or command (causation_id)")
        }
        let applied: SagaTally?
        do {
            applied = try await orchestrator.apply(.outcome(commandID: command, outcome), to: saga, on: context.connection)
        } catch {
            // A saga that can take no input (its row unreadable, a phase its definition no longer
            // has) would hold this reply, and every reply behind it on the partition, for ever:
            // dead-letter it with the reason instead (replayable once the saga is mended).
            guard SagaDeadlineService.isTheSagasOwn(error) else { throw error }
            throw PermanentFailure("saga \(saga) cannot take this reply: \(String(reflecting: error))")
        }
        // Counted after the commit: a retried message must not count twice.
        if let tally = applied {
            context.afterCommit { tally.record() }
        } else {
            context.afterCommit { Counter(label: "saga_replies_unknown_total").increment() }
            context.logger.warning("reply for an unknown saga ignored", metadata: ["saga.id": "\(saga)"])
        }
    }
}
