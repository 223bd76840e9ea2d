/// A saga as data: its name, ordered steps and, optionally, its pivot. The engine
/// (``SagaStateMachine``) walks the steps forward and, on a failure or an exhausted timeout, the
/// compensations backward — but never back across the pivot.
///
/// The steps fall into Garcia-Molina and Salem's three kinds:
/// - **compensatable**, before the pivot: undone (newest first) when a later step fails;
/// - the **pivot**, the point of no return: its success commits the saga to finishing;
/// - **retriable**, after the pivot: they must happen, so none of them is compensated. The
///   failure of one, or the pivot or one of them running out of attempts (whether it happened is
///   then unknown), ends the saga ``SagaPhase/halted(step:)``: nothing can be undone any more, so
///   an operator decides.
///
/// A definition without a pivot compensates from wherever it fails.
public struct SagaDefinition: Sendable, Equatable {
    /// For example `place_order`.
    public let name: String
    /// The steps, in order.
    public let steps: [SagaStep]
    /// The index in ``steps`` of the step named as the pivot, or nil when every step can be compensated.
    public let pivotIndex: Int?

    /// Creates a definition; it needs at least one step. `pivot` names the step after whose
    /// success the saga no longer compensates: neither it nor any step after it may have a
    /// compensation, since none of those would ever run.
    public init(name: String, steps: [SagaStep], pivot: String? = nil) {
        precondition(!steps.isEmpty, "a saga needs at least one step")
        self.name = name
        self.steps = steps
        if let pivot {
            guard let index = steps.firstIndex(where: { $0.name == pivot }) else {
                preconditionFailure("the pivot \(pivot) is not a step of \(name)")
            }
            precondition(steps[index...].allSatisfy { $0.compensation == nil },
                         "\(name): the pivot \(pivot) and the steps after it are never compensated, so none may have a compensation")
            self.pivotIndex = index
        } else {
            self.pivotIndex = nil
        }
    }

    /// Whether step `step` comes after the pivot (a retriable step): its failure halts the saga.
    public func isPastPivot(_ step: Int) -> Bool {
        guard let pivotIndex else { return false }
        return step > pivotIndex
    }

    /// Whether step `step` is the pivot or after it: a timeout that exhausts its attempts leaves
    /// its effect unknown and nothing after the pivot can be undone, so the saga halts.
    public func isAtOrPastPivot(_ step: Int) -> Bool {
        guard let pivotIndex else { return false }
        return step >= pivotIndex
    }

    /// Whether `phase` names a step this definition has (and, while compensating, one with a
    /// compensation). A stored saga written under another definition — a release that removed
    /// or reordered steps — may not; ``SagaStateMachine`` only takes phases this admits. A
    /// finished saga is always admitted, whatever step it halted at: nothing looks the step up
    /// again, and a late reply to it must be ignored, not refused, after a release moved the pivot.
    public func admits(_ phase: SagaPhase) -> Bool {
        switch phase {
        case .notStarted, .succeeded, .compensated, .halted: true
        case .forward(let step, let attempt): steps.indices.contains(step) && attempt >= 1
        case .compensating(let step, let attempt): steps.indices.contains(step) && steps[step].compensation != nil && attempt >= 1
        }
    }
}

/// Who performs a step or a compensation.
public enum SagaAction: Sendable, Equatable {
    /// A command sent (through the outbox) to a participant, which replies on the saga replies topic.
    case command(participant: String)
    /// Work the orchestrator does itself, in the same transaction; its outcome is fed back at once.
    case local
}

/// One step: an action, what undoes it, how long to wait and how often to retry.
public struct SagaStep: Sendable, Equatable {
    /// For example `authorize_payment`.
    public let name: String
    public let action: SagaAction
    /// What undoes the step, or nil when nothing needs undoing (a validation, say).
    public let compensation: SagaCompensation?
    /// How long to wait for the first reply.
    public let timeout: Duration
    /// How often a step whose reply does not come is re-sent (with the same command id).
    public let retry: SagaRetryPolicy

    public init(name: String, action: SagaAction, compensation: SagaCompensation? = nil, timeout: Duration = .seconds(10), retry: SagaRetryPolicy = SagaRetryPolicy()) {
        self.name = name
        self.action = action
        self.compensation = compensation
        self.timeout = timeout
        self.retry = retry
    }
}

/// What undoes a completed step.
public struct SagaCompensation: Sendable, Equatable {
    /// For example `void_payment`.
    public let name: String
    public let action: SagaAction

    public init(name: String, action: SagaAction) {
        self.name = name
        self.action = action
    }
}

/// Attempts and backoff for a step whose reply does not arrive. Each attempt waits twice as
/// long as the one before, up to ``maximumTimeout``. Compensations are retried without limit
/// (they must eventually happen); forward steps give up after ``maximumAttempts`` and compensate
/// (or, from the pivot on, halt the saga), unless they are retried ``untilAnswered(maximumTimeout:)``.
public struct SagaRetryPolicy: Sendable, Equatable {
    /// Attempts in all (1 = no retry); nil for a step re-sent until it is answered.
    public let maximumAttempts: Int?
    /// The longest wait for one attempt.
    public let maximumTimeout: Duration

    /// Gives up after `maximumAttempts` (at least 1); then the saga compensates, or, from the
    /// pivot on, halts.
    public init(maximumAttempts: Int = 3, maximumTimeout: Duration = .seconds(60)) {
        precondition(maximumAttempts >= 1)
        self.maximumAttempts = maximumAttempts
        self.maximumTimeout = maximumTimeout
    }

    private init(unlimitedWithMaximumTimeout maximumTimeout: Duration) {
        self.maximumAttempts = nil
        self.maximumTimeout = maximumTimeout
    }

    /// Never gives up: for the pivot or a step past it, which has to happen as a compensation
    /// has to. A step whose effect cannot be undone (no compensation) but may have happened when
    /// its reply is late — CancelOrder's refund — should not be abandoned: with a limit, the
    /// saga would halt for an operator after the last attempt.
    public static func untilAnswered(maximumTimeout: Duration = .seconds(60)) -> SagaRetryPolicy {
        SagaRetryPolicy(unlimitedWithMaximumTimeout: maximumTimeout)
    }

    /// Whether a step whose attempt `attempt` timed out is tried again.
    public func retries(after attempt: Int) -> Bool {
        guard let maximumAttempts else { return true }
        return attempt < maximumAttempts
    }

    /// The wait for `attempt` (1-based) of a step whose first wait is `base`.
    public func timeout(base: Duration, attempt: Int) -> Duration {
        var wait = base
        for _ in 1..<max(1, attempt) {
            wait = wait * 2
            if wait >= maximumTimeout { return maximumTimeout }
        }
        return min(wait, maximumTimeout)
    }
}
