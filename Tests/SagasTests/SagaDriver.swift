import Foundation
import Sagas

/// Drives a ``SagaStateMachine`` in the engine's tests: hands out sequential command ids
/// (`…0001`, `…0002`, …) and keeps the state between inputs.
struct SagaDriver {
    let machine: SagaStateMachine
    var state = SagaState.initial
    private var issuedIDs = 0

    init(_ definition: SagaDefinition) {
        machine = SagaStateMachine(definition: definition)
    }

    mutating func apply(_ input: SagaInput) -> SagaTransition {
        var counter = issuedIDs
        let transition = machine.transition(state, input) {
            counter += 1
            return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", counter))!
        }
        issuedIDs = counter
        state = transition.state
        return transition
    }

    /// The command whose outcome the saga waits for.
    var awaited: UUID { state.awaitedCommandID! }
    mutating func succeed() -> SagaTransition { apply(.outcome(commandID: awaited, .succeeded)) }
    mutating func fail(_ reason: String) -> SagaTransition { apply(.outcome(commandID: awaited, .failed(reason: reason))) }
    mutating func timeOut() -> SagaTransition { apply(.deadlinePassed(commandID: awaited)) }

    /// `name#attempt` of each step or compensation a transition executes.
    static func executions(_ transition: SagaTransition) -> [String] {
        transition.effects.compactMap { effect in
            if case .execute(let execution) = effect { return "\(execution.name)#\(execution.attempt)" }
            return nil
        }
    }
}
