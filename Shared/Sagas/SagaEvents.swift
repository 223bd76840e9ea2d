public import Foundation

/// What happens to a saga from outside.
public enum SagaInput: Sendable, Equatable {
    /// Begin with the first step.
    case start
    /// The outcome of the command (or local action) `commandID`.
    case outcome(commandID: UUID, SagaStepOutcome)
    /// The wait for `commandID` is over (the deadline scanner says so).
    case deadlinePassed(commandID: UUID)
}

/// A participant's answer.
public enum SagaStepOutcome: Sendable, Equatable {
    case succeeded
    /// The step cannot be done; `reason` ends up on the rejected order.
    case failed(reason: String)
}

/// Which way a step is being executed.
public enum SagaDirection: String, Sendable, Equatable, Codable {
    case forward
    case compensation
}

/// Something the orchestrator must now do.
public enum SagaEffect: Sendable, Equatable {
    /// Send the step's command (or run its local action) with `commandID`, and wait until
    /// `timeout` from now for its outcome.
    case execute(SagaExecution)
    /// The saga ended.
    case finished(SagaOutcome)
}

/// One execution of a step or a compensation.
public struct SagaExecution: Sendable, Equatable {
    /// The index of the step in the definition.
    public let step: Int
    /// The step's name (forward) or the compensation's name.
    public let name: String
    public let direction: SagaDirection
    public let action: SagaAction
    /// 1 for the first send; more for re-sends of the same command id.
    public let attempt: Int
    public let commandID: UUID
    public let timeout: Duration
}

/// How a saga ended.
public enum SagaOutcome: Sendable, Equatable {
    case succeeded
    case compensated(reason: String)
    /// The step named `stepName` came after the pivot and failed, or was the pivot or after it
    /// and never answered; nothing was undone.
    case halted(stepName: String, reason: String)
}

/// A line of the saga's timeline, for `GET /orders/{id}/saga` and for people studying the flow.
public struct SagaTimelineEntry: Sendable, Equatable {
    public enum Kind: String, Sendable, Equatable, Codable {
        case started, commandSent = "command_sent", localRun = "local_run", succeeded = "step_succeeded", failed = "step_failed"
        case timedOut = "timed_out", retried, compensationSent = "compensation_sent", compensated
        case finished, ignored
    }

    public let kind: Kind
    /// The step or compensation name, when the entry is about one.
    public let step: String?
    public let commandID: UUID?
    public let attempt: Int?
    public let detail: String?
}

/// The result of one transition: the new state, what to do, and what to record.
public struct SagaTransition: Sendable, Equatable {
    public let state: SagaState
    public let effects: [SagaEffect]
    public let timeline: [SagaTimelineEntry]
}
