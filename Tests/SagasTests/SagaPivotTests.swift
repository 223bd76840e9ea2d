import Foundation
import Sagas
import Testing

/// The pivot, without I/O: a saga shaped like a booking — hold a seat (compensatable), charge
/// (the pivot), send the ticket and mark it done (retriable) — against every way a step can end.
@Suite("Saga pivot")
struct SagaPivotTests {
    static let definition = SagaDefinition(name: "book_seat", steps: [
        SagaStep(name: "hold_seat", action: .command(participant: "seats"),
                 compensation: SagaCompensation(name: "release_seat", action: .command(participant: "seats")),
                 timeout: .seconds(5), retry: SagaRetryPolicy(maximumAttempts: 2)),
        SagaStep(name: "charge", action: .command(participant: "payments"), timeout: .seconds(5), retry: SagaRetryPolicy(maximumAttempts: 2)),
        SagaStep(name: "send_ticket", action: .command(participant: "mail"), timeout: .seconds(5), retry: SagaRetryPolicy(maximumAttempts: 2)),
        SagaStep(name: "mark_done", action: .local),
    ], pivot: "charge")

    /// A driver past the start, with the first `steps` steps succeeded.
    static func past(_ steps: Int) -> SagaDriver {
        var driver = SagaDriver(definition)
        _ = driver.apply(.start)
        for _ in 0..<steps { _ = driver.succeed() }
        return driver
    }

    @Test("the definition knows its pivot: the steps at and after it")
    func pivotIndex() {
        let definition = Self.definition
        #expect(definition.pivotIndex == 1)
        #expect((0..<4).map(definition.isPastPivot) == [false, false, true, true])
        #expect((0..<4).map(definition.isAtOrPastPivot) == [false, true, true, true])
        let plain = SagaDefinition(name: "plain", steps: definition.steps.map {
            SagaStep(name: $0.name, action: $0.action, compensation: $0.compensation, timeout: $0.timeout, retry: $0.retry)
        })
        #expect(plain.pivotIndex == nil && !(0..<4).contains(where: plain.isAtOrPastPivot))
    }

    @Test("every step succeeds: succeeded, the pivot changes nothing")
    func success() {
        var driver = Self.past(3)
        #expect(driver.succeed().effects == [.finished(.succeeded)])
        #expect(driver.state.phase == .succeeded)
    }

    @Test("the pivot fails: the steps before it are compensated, as without a pivot")
    func pivotFails() {
        var driver = Self.past(1)
        #expect(SagaDriver.executions(driver.fail("card_declined")) == ["release_seat#1"])
        #expect(driver.succeed().effects == [.finished(.compensated(reason: "card_declined"))])
        #expect(driver.state.phase == .compensated)
    }

    @Test("a step after the pivot fails: halted at that step, nothing compensated, the reason kept", arguments: [2, 3])
    func pastPivotFails(_ step: Int) {
        var driver = Self.past(step)
        let name = Self.definition.steps[step].name
        let halted = driver.fail("mailbox gone")
        #expect(halted.effects == [.finished(.halted(stepName: name, reason: "mailbox gone"))], "no compensation is executed")
        #expect(driver.state.phase == .halted(step: step))
        #expect(driver.state.phase.isTerminal)
        #expect(driver.state.awaitedCommandID == nil)
        #expect(driver.state.failureReason == "mailbox gone")
        #expect(halted.timeline.map(\.kind) == [.failed, .finished])
        let finished = halted.timeline.last
        #expect(finished?.step == nil, "like every finished entry; the step that failed is the entry before")
        #expect(finished?.detail?.hasPrefix("halted at \(name): mailbox gone (past the pivot charge") == true, "\(String(describing: finished?.detail))")
        #expect(!halted.timeline.contains { $0.kind == .compensationSent || $0.kind == .compensated })
    }

    @Test("the pivot's attempts run out: halted at the pivot (whether it happened is unknown), the steps before it kept")
    func pivotTimesOut() {
        var driver = Self.past(1)
        #expect(SagaDriver.executions(driver.timeOut()) == ["charge#2"], "retried first, as any step")
        let halted = driver.timeOut()
        #expect(SagaDriver.executions(halted).isEmpty, "the seat is not released: the charge may have happened")
        #expect(driver.state.phase == .halted(step: 1))
        guard case .finished(.halted(let step, let reason)) = halted.effects.first else {
            Issue.record("not halted: \(halted.effects)")
            return
        }
        #expect(step == "charge")
        #expect(reason.contains("timed out after 2 attempts") && reason.contains("unknown"))
        #expect(halted.timeline.last?.detail?.contains("at the pivot") == true)
    }

    @Test("a step after the pivot runs out of attempts: halted there")
    func pastPivotTimesOut() {
        var driver = Self.past(2)
        #expect(SagaDriver.executions(driver.timeOut()) == ["send_ticket#2"])
        #expect(driver.timeOut().effects.count == 1)
        #expect(driver.state.phase == .halted(step: 2))
    }

    @Test("a step before the pivot runs out of attempts: compensated as without a pivot")
    func beforePivotTimesOut() {
        var driver = Self.past(0)
        _ = driver.timeOut()
        #expect(SagaDriver.executions(driver.timeOut()) == ["release_seat#1"], "the timed-out hold may have happened: released")
        #expect(driver.succeed().effects.first == .finished(.compensated(reason: "hold_seat timed out after 2 attempts")))
    }

    @Test("a halted saga ignores late replies, stale deadlines and a second start")
    func haltedIsOver() {
        var driver = Self.past(2)
        let ticket = driver.awaited
        _ = driver.fail("mailbox gone")
        let halted = driver.state
        for input in [SagaInput.outcome(commandID: ticket, .succeeded), .deadlinePassed(commandID: ticket), .start] {
            let transition = driver.apply(input)
            #expect(transition.effects.isEmpty)
            #expect(transition.timeline.map(\.kind) == [.ignored])
            #expect(driver.state == halted)
        }
    }

    @Test("a halted saga is admitted under any definition (it is over), so a late reply to it is ignored, not refused")
    func admitted() {
        var driver = Self.past(3)
        let last = driver.awaited
        _ = driver.fail("x")
        #expect(Self.definition.admits(driver.state.phase))
        // A release that moved the pivot, or dropped it: the stored halted saga still takes a late reply.
        let moved = SagaDefinition(name: "book_seat", steps: Self.definition.steps, pivot: "mark_done")
        let none = SagaDefinition(name: "book_seat", steps: Self.definition.steps)
        for definition in [moved, none] {
            #expect(definition.admits(.halted(step: 2)) && definition.admits(.halted(step: 9)))
            let late = SagaStateMachine(definition: definition).transition(driver.state, .outcome(commandID: last, .succeeded)) { UUID() }
            #expect(late.effects.isEmpty && late.timeline.map(\.kind) == [.ignored] && late.state == driver.state)
        }
    }

    @Test("a pivot re-sent until answered never halts: 30 timeouts re-send it, then its reply goes on")
    func untilAnsweredPivot() {
        let definition = SagaDefinition(name: "cancel", steps: [
            SagaStep(name: "refund", action: .command(participant: "payments"), timeout: .seconds(5), retry: .untilAnswered(maximumTimeout: .seconds(20))),
            SagaStep(name: "mark_done", action: .local),
        ], pivot: "refund")
        let machine = SagaStateMachine(definition: definition)
        var transition = machine.transition(.initial, .start) { UUID() }
        let refund = transition.state.awaitedCommandID!
        for attempt in 2...31 {
            transition = machine.transition(transition.state, .deadlinePassed(commandID: refund)) { UUID() }
            #expect(transition.state.phase == .forward(step: 0, attempt: attempt))
        }
        transition = machine.transition(transition.state, .outcome(commandID: refund, .succeeded)) { UUID() }
        #expect(transition.state.phase == .forward(step: 1, attempt: 1))
    }

    @Test("a halted state survives its JSON (as saga_instances stores it)")
    func haltedRoundTrip() throws {
        let state = SagaState(phase: .halted(step: 2), awaitedCommandID: nil, failureReason: "mailbox gone")
        let decoded = try JSONDecoder().decode(SagaState.self, from: JSONEncoder().encode(state))
        #expect(decoded == state)
    }
}
