import Foundation
import Logging
import Metrics
import PostgresNIO
import ServiceKit
import ServiceLifecycle

/// Feeds passed deadlines to their sagas: each due saga is locked with `FOR UPDATE SKIP
/// LOCKED` and handled in its own transaction, so several orders instances can run this side
/// by side without handling one saga twice.
///
/// A saga whose deadline fails for a reason of its own (a state that does not decode, a step
/// the definition no longer knows) is postponed by `failureBackoff` and counted in
/// `saga_deadline_failures_total`, so the sagas due after it are not held up: the scan takes
/// the oldest deadline first, and would otherwise take that one again and again.
struct SagaDeadlineService: Service {
    let client: PostgresClient
    let orchestrator: SagaOrchestrator
    let interval: Duration
    var failureBackoff: Duration = .seconds(60)
    let logger: Logger

    private static var failures: Counter { Counter(label: "saga_deadline_failures_total") }

    func run() async throws {
        Self.failures.increment(by: 0)  // from zero, so the first failure is an increase
        try? await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    while try await handleOneDue() {}
                } catch {
                    logger.warning("saga deadline scan failed; retrying", metadata: ["error": "\(String(reflecting: error))"])
                }
                try await Task.sleep(for: interval)
            }
        }
    }

    /// Handles one due saga; false when none is due. A deadline fed to its saga counts in
    /// `saga_deadlines_handled_total` once its transaction has committed.
    private func handleOneDue() async throws -> Bool {
        let outcome: ScanOutcome
        do {
            outcome = try await client.withTransaction(logger: logger) { connection -> ScanOutcome in
                guard let (id, state) = try await orchestrator.sagas.lockDue(on: connection) else { return .noneDue }
                guard let awaited = state.awaitedCommandID, !state.phase.isTerminal else {
                    try await orchestrator.sagas.clearDeadline(id, on: connection)
                    return .cleared
                }
                do {
                    let tally = try await orchestrator.apply(.deadlinePassed(commandID: awaited), to: id, on: connection)
                    return .fed(tally ?? SagaTally())
                } catch {
                    guard Self.isTheSagasOwn(error) else { throw error }  // the scan retries
                    throw SagaStore.DueSagaFailed(sagaID: id, underlying: error)
                }
            }
        } catch {
            if Task.isCancelled { throw error }
            let failed = error as? SagaStore.DueSagaFailed
                ?? ((error as? PostgresTransactionError)?.closureError as? SagaStore.DueSagaFailed)
            guard let failed else { throw error }
            try await client.withConnection { connection in
                try await orchestrator.sagas.postponeDeadline(failed.sagaID, by: failureBackoff, on: connection)
            }
            Self.failures.increment()
            logger.error("saga deadline failed; postponed so the others go on", metadata: [
                "saga.id": "\(failed.sagaID)", "retry_in": "\(failureBackoff)", "error": "\(String(reflecting: failed.underlying))",
            ])
            return true
        }
        switch outcome {
        case .noneDue: return false
        case .cleared: return true
        case .fed(let tally):
            Counter(label: "saga_deadlines_handled_total").increment()
            tally.record()
            return true
        }
    }

    /// Whether `error`, raised while feeding a saga its deadline, comes from that saga rather
    /// than from the moment: its data (SQLSTATE class 22) or a constraint it breaks (23), or
    /// anything that is not the database's, such as a step its definition no longer knows. A
    /// connection lost, a lock or serialization conflict, a lost version race or a shutdown is
    /// not: the scan retries those.
    static func isTheSagasOwn(_ error: any Error) -> Bool {
        if error is CancellationError || error is SagaStore.ConcurrentModification || Task.isCancelled { return false }
        if let state = PostgresErrorCode.sqlState(of: error) { return state.hasPrefix("22") || state.hasPrefix("23") }
        return !(error is PSQLError)
    }

    /// What one scan step did.
    private enum ScanOutcome {
        /// No saga's deadline had passed.
        case noneDue
        /// A stale deadline of a finished saga was removed.
        case cleared
        /// A passed deadline was fed to its saga (a timeout: retry or compensation), with what
        /// that did for the metrics.
        case fed(SagaTally)
    }
}
