import Foundation
import Logging
import PostgresNIO
import ServiceLifecycle

/// Feeds passed deadlines to their sagas: each due saga is locked with `FOR UPDATE SKIP
/// LOCKED` and handled in its own transaction, so several orders instances can run this side
/// by side without handling one saga twice.
struct SagaDeadlineService: Service {
    let client: PostgresClient
    let orchestrator: SagaOrchestrator
    let interval: Duration
    let logger: Logger

    func run() async throws {
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

    /// Handles one due saga; false when none is due.
    private func handleOneDue() async throws -> Bool {
        try await client.withTransaction(logger: logger) { connection in
            guard let (id, state) = try await orchestrator.sagas.lockDue(on: connection) else { return false }
            guard let awaited = state.awaitedCommandID, !state.phase.isTerminal else {
                try await orchestrator.sagas.clearDeadline(id, on: connection)
                return true
            }
            try await orchestrator.apply(.deadlinePassed(commandID: awaited), to: id, on: connection)
            return true
        }
    }
}
