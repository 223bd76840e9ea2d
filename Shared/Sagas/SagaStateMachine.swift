public import Foundation

/// The saga engine's transitions: a pure function from (state, input) to (state, effects,
/// timeline). No I/O, no clock, no randomness except the command ids it is handed, so every
/// path is unit-tested.
///
/// - `start` executes step 0.
/// - The awaited command's success executes the next step, or finishes `succeeded`.
/// - Its failure starts compensating the steps before it, newest first (steps without a
///   compensation are skipped), then finishes `compensated` with the reason.
/// - A passed deadline re-sends the same command id (attempt + 1, longer wait) until the
///   step's retry policy is exhausted; then the step itself is compensated too, since it may
///   have taken effect without the reply reaching us, and those before it.
/// - Never back across the pivot (``SagaDefinition/pivotIndex``): the failure of a step after it, or
///   the exhausted timeout of the pivot or a step after it, finishes `halted` at that step with
///   the reason, undoing nothing.
/// - Compensations are re-sent until they answer; their failure is recorded and the walk goes on.
/// - An outcome or deadline for any other command id (a duplicate, a late reply to an
///   earlier attempt that was already answered, a stale deadline) changes nothing.
public struct SagaStateMachine: Sendable {
    public let definition: SagaDefinition

    public init(definition: SagaDefinition) {
        self.definition = definition
    }

    /// Applies `input` to `state`; `newCommandID` supplies ids for new commands. `state.phase`
    /// must be one the definition ``SagaDefinition/admits(_:)`` (the caller checks a stored one).
    public func transition(_ state: SagaState, _ input: SagaInput, newCommandID: () -> UUID) -> SagaTransition {
        var builder = Builder(state: state)
        switch (state.phase, input) {
        case (.notStarted, .start):
            builder.record(.started, detail: definition.name)
            enterForward(0, &builder, newCommandID)
        case (.notStarted, .outcome), (.notStarted, .deadlinePassed):
            builder.record(.ignored, detail: "the saga has not started")
        case (.forward, .start), (.compensating, .start), (.succeeded, .start), (.compensated, .start), (.halted, .start):
            builder.record(.ignored, detail: "the saga has already started")
        case (.succeeded, .outcome(let id, _)), (.compensated, .outcome(let id, _)), (.halted, .outcome(let id, _)):
            builder.record(.ignored, commandID: id, detail: "the saga is over; a late or duplicate reply")
        case (.succeeded, .deadlinePassed(let id)), (.compensated, .deadlinePassed(let id)), (.halted, .deadlinePassed(let id)):
            builder.record(.ignored, commandID: id, detail: "the saga is over; a stale deadline")
        case (.forward(let step, let attempt), .outcome(let id, let outcome)):
            guard id == state.awaitedCommandID else { builder.ignoreUnexpected(id); break }
            switch outcome {
            case .succeeded:
                builder.record(.succeeded, step: definition.steps[step].name, commandID: id, attempt: attempt)
                enterForward(step + 1, &builder, newCommandID)
            case .failed(let reason):
                builder.record(.failed, step: definition.steps[step].name, commandID: id, attempt: attempt, detail: reason)
                if definition.isPastPivot(step) {
                    halt(at: step, reason: reason, &builder)
                } else {
                    builder.state.failureReason = reason
                    enterCompensation(from: step - 1, &builder, newCommandID)
                }
            }
        case (.compensating(let step, let attempt), .outcome(let id, let outcome)):
            guard id == state.awaitedCommandID else { builder.ignoreUnexpected(id); break }
            let name = definition.steps[step].compensation?.name
            if case .failed(let reason) = outcome {
                builder.record(.failed, step: name, commandID: id, attempt: attempt, detail: "compensation failed: \(reason)")
            } else {
                builder.record(.compensated, step: name, commandID: id, attempt: attempt)
            }
            enterCompensation(from: step - 1, &builder, newCommandID)
        case (.forward(let step, let attempt), .deadlinePassed(let id)):
            guard id == state.awaitedCommandID else { builder.ignoreUnexpected(id); break }
            let current = definition.steps[step]
            builder.record(.timedOut, step: current.name, commandID: id, attempt: attempt)
            if current.retry.retries(after: attempt) {
                builder.state.phase = .forward(step: step, attempt: attempt + 1)
                builder.record(.retried, step: current.name, commandID: id, attempt: attempt + 1)
                builder.execute(step: step, name: current.name, direction: .forward, action: current.action, attempt: attempt + 1,
                                commandID: id, timeout: current.retry.timeout(base: current.timeout, attempt: attempt + 1))
                break
            }
            let exhausted = "\(current.name) timed out after \(attempt) attempt\(attempt == 1 ? "" : "s")"
            if definition.isAtOrPastPivot(step) {
                halt(at: step, reason: "\(exhausted); whether it happened is unknown", &builder)
            } else {
                builder.state.failureReason = exhausted
                enterCompensation(from: step, &builder, newCommandID)
            }
        case (.compensating(let step, let attempt), .deadlinePassed(let id)):
            guard id == state.awaitedCommandID, let compensation = definition.steps[step].compensation else { builder.ignoreUnexpected(id); break }
            let definition = self.definition.steps[step]
            builder.record(.timedOut, step: compensation.name, commandID: id, attempt: attempt)
            builder.state.phase = .compensating(step: step, attempt: attempt + 1)
            builder.record(.retried, step: compensation.name, commandID: id, attempt: attempt + 1)
            builder.execute(step: step, name: compensation.name, direction: .compensation, action: compensation.action, attempt: attempt + 1,
                            commandID: id, timeout: definition.retry.timeout(base: definition.timeout, attempt: attempt + 1))
        }
        return SagaTransition(state: builder.state, effects: builder.effects, timeline: builder.timeline)
    }

    private func enterForward(_ step: Int, _ builder: inout Builder, _ newCommandID: () -> UUID) {
        guard step < definition.steps.count else {
            builder.state = SagaState(phase: .succeeded, awaitedCommandID: nil, failureReason: nil)
            builder.record(.finished, detail: "succeeded")
            builder.effects.append(.finished(.succeeded))
            return
        }
        let definition = self.definition.steps[step]
        let id = newCommandID()
        builder.state.phase = .forward(step: step, attempt: 1)
        builder.state.awaitedCommandID = id
        builder.record(definition.action == .local ? .localRun : .commandSent, step: definition.name, commandID: id, attempt: 1)
        builder.execute(step: step, name: definition.name, direction: .forward, action: definition.action, attempt: 1, commandID: id, timeout: definition.timeout)
    }

    /// Compensates the newest step at or before `step` that has a compensation, or finishes.
    private func enterCompensation(from step: Int, _ builder: inout Builder, _ newCommandID: () -> UUID) {
        var index = step
        while index >= 0, definition.steps[index].compensation == nil { index -= 1 }
        guard index >= 0, let compensation = definition.steps[index].compensation else {
            let reason = builder.state.failureReason ?? "failed"
            builder.state = SagaState(phase: .compensated, awaitedCommandID: nil, failureReason: reason)
            builder.record(.finished, detail: "compensated: \(reason)")
            builder.effects.append(.finished(.compensated(reason: reason)))
            return
        }
        let id = newCommandID()
        builder.state.phase = .compensating(step: index, attempt: 1)
        builder.state.awaitedCommandID = id
        builder.record(compensation.action == .local ? .localRun : .compensationSent, step: compensation.name, commandID: id, attempt: 1)
        builder.execute(step: index, name: compensation.name, direction: .compensation, action: compensation.action, attempt: 1,
                        commandID: id, timeout: definition.steps[index].timeout)
    }

    /// Ends the saga at `step`, at or past the pivot, without undoing anything.
    private func halt(at step: Int, reason: String, _ builder: inout Builder) {
        let name = definition.steps[step].name
        let place = if let pivot = definition.pivotIndex, pivot != step { "past the pivot \(definition.steps[pivot].name)" } else { "at the pivot" }
        builder.state = SagaState(phase: .halted(step: step), awaitedCommandID: nil, failureReason: reason)
        builder.record(.finished, detail: "halted at \(name): \(reason) (\(place): nothing is undone, an operator decides)")
        builder.effects.append(.finished(.halted(stepName: name, reason: reason)))
    }

    private struct Builder {
        var state: SagaState
        var effects: [SagaEffect] = []
        var timeline: [SagaTimelineEntry] = []

        mutating func record(_ kind: SagaTimelineEntry.Kind, step: String? = nil, commandID: UUID? = nil, attempt: Int? = nil, detail: String? = nil) {
            timeline.append(SagaTimelineEntry(kind: kind, step: step, commandID: commandID, attempt: attempt, detail: detail))
        }

        mutating func ignoreUnexpected(_ id: UUID) {
            record(.ignored, commandID: id, detail: "not the awaited command; a duplicate, a late reply or a stale deadline")
        }

        mutating func execute(step: Int, name: String, direction: SagaDirection, action: SagaAction, attempt: Int, commandID: UUID, timeout: Duration) {
            effects.append(.execute(SagaExecution(step: step, name: name, direction: direction, action: action, attempt: attempt, commandID: commandID, timeout: timeout)))
        }
    }
}
