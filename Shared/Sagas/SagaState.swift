public import Foundation

/// Where a saga instance is.
public enum SagaPhase: Sendable, Equatable, Codable {
    /// Created, not started.
    case notStarted
    /// Waiting for step `step`'s outcome; `attempt` counts sends of the same command.
    case forward(step: Int, attempt: Int)
    /// Waiting for the compensation of step `step`.
    case compensating(step: Int, attempt: Int)
    /// Every step succeeded.
    case succeeded
    /// A step failed; every completed step with a compensation was compensated.
    case compensated
    /// Step `step` (an index) came after the pivot and failed, or was the pivot or after it and
    /// never answered: nothing was undone and the saga stopped there for an operator.
    case halted(step: Int)

    /// Whether the saga is over.
    public var isTerminal: Bool {
        switch self {
        case .succeeded, .compensated, .halted: true
        case .notStarted, .forward, .compensating: false
        }
    }
}

/// A saga instance's engine state (persisted as JSON beside the saga's own data).
public struct SagaState: Sendable, Equatable, Codable {
    /// Where it is.
    public var phase: SagaPhase
    /// The command (or local action) whose outcome is awaited; the same across retries, so
    /// participants can recognise a re-send.
    public var awaitedCommandID: UUID?
    /// Why it compensates, or halted, once it does.
    public var failureReason: String?

    /// A saga not started yet.
    public static let initial = SagaState(phase: .notStarted, awaitedCommandID: nil, failureReason: nil)

    public init(phase: SagaPhase, awaitedCommandID: UUID?, failureReason: String?) {
        self.phase = phase
        self.awaitedCommandID = awaitedCommandID
        self.failureReason = failureReason
    }
}
