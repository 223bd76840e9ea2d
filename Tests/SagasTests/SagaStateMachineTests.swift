import Foundation
import Sagas
import Testing

/// Every path of the engine, without I/O: a four-step saga shaped like PlaceOrder.
@Suite("Saga state machine")
struct SagaStateMachineTests {
    static let definition = SagaDefinition(name: "place_order", steps: [
        SagaStep(name: "reserve_stock", action: .local, compensation: SagaCompensation(name: "release_stock", action: .local), timeout: .seconds(5)),
        SagaStep(name: "validate_customer", action: .command(participant: "users"), timeout: .seconds(5), retry: SagaRetryPolicy(maximumAttempts: 2)),
        SagaStep(name: "authorize_payment", action: .command(participant: "payments"),
                 compensation: SagaCompensation(name: "void_payment", action: .command(participant: "payments")),
                 timeout: .seconds(5), retry: SagaRetryPolicy(maximumAttempts: 3, maximumTimeout: .seconds(15))),
        SagaStep(name: "approve_order", action: .local, timeout: .seconds(5)),
    ])

    @Test("success: every step in order, then succeeded")
    func success() {
        var driver = SagaDriver(Self.definition)
        #expect(SagaDriver.executions(driver.apply(.start)) == ["reserve_stock#1"])
        #expect(SagaDriver.executions(driver.succeed()) == ["validate_customer#1"])
        #expect(SagaDriver.executions(driver.succeed()) == ["authorize_payment#1"])
        #expect(SagaDriver.executions(driver.succeed()) == ["approve_order#1"])
        let done = driver.succeed()
        #expect(done.effects == [.finished(.succeeded)])
        #expect(driver.state.phase == .succeeded)
        #expect(driver.state.phase.isTerminal)
    }

    @Test("failure at step 1 (local): nothing to compensate before it")
    func failAtFirst() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start)
        let failed = driver.fail("out_of_stock")
        #expect(failed.effects == [.finished(.compensated(reason: "out_of_stock"))])
        #expect(driver.state.phase == .compensated)
    }

    @Test("failure at step 2: release stock, then compensated")
    func failAtSecond() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed()
        #expect(SagaDriver.executions(driver.fail("customer_suspended")) == ["release_stock#1"])
        #expect(driver.state.phase == .compensating(step: 0, attempt: 1))
        #expect(driver.succeed().effects == [.finished(.compensated(reason: "customer_suspended"))])
    }

    @Test("failure at step 3: the step without compensation is skipped")
    func failAtThird() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed()
        #expect(SagaDriver.executions(driver.fail("insufficient_funds")) == ["release_stock#1"], "a declined payment took nothing: no void")
        #expect(driver.succeed().effects == [.finished(.compensated(reason: "insufficient_funds"))])
    }

    @Test("failure at step 4: void the payment, then release stock")
    func failAtFourth() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed(); _ = driver.succeed()
        #expect(SagaDriver.executions(driver.fail("cancelled meanwhile")) == ["void_payment#1"])
        #expect(SagaDriver.executions(driver.succeed()) == ["release_stock#1"])
        #expect(driver.succeed().effects == [.finished(.compensated(reason: "cancelled meanwhile"))])
    }

    @Test("timeout at each step, every attempt spent: the timed-out step is compensated too", arguments: [1, 2, 3])
    func timeoutExhausted(_ step: Int) throws {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start)
        for _ in 0..<step { _ = driver.succeed() }
        let attempts = try #require(Self.definition.steps[step].retry.maximumAttempts)
        for attempt in 1..<attempts {
            let retry = driver.timeOut()
            #expect(SagaDriver.executions(retry) == ["\(Self.definition.steps[step].name)#\(attempt + 1)"])
        }
        let exhausted = driver.timeOut()
        let expected = ["validate_customer": ["release_stock#1"], "authorize_payment": ["void_payment#1"], "approve_order": ["void_payment#1"]]
        #expect(SagaDriver.executions(exhausted) == expected[Self.definition.steps[step].name])
        #expect(driver.state.failureReason?.contains("timed out") == true)
        while !driver.state.phase.isTerminal { _ = driver.succeed() }
        #expect(driver.state.phase == .compensated)
    }

    @Test("a timeout re-sends the same command id with a longer wait; the reply then continues the saga")
    func retryThenSuccess() throws {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed()
        let first = driver.awaited
        let retried = driver.timeOut()
        guard case .execute(let execution) = try #require(retried.effects.first) else { Issue.record("no execution"); return }
        #expect(execution.commandID == first)
        #expect(execution.attempt == 2)
        #expect(execution.timeout == .seconds(10))
        _ = driver.timeOut()
        #expect(driver.state.phase == .forward(step: 2, attempt: 3))
        #expect(SagaDriver.executions(driver.succeed()) == ["approve_order#1"])
    }

    @Test("a step retried until answered never compensates: 50 timeouts re-send the same command id, then its reply continues the saga")
    func retryUntilAnswered() throws {
        let definition = SagaDefinition(name: "cancel_order", steps: [
            SagaStep(name: "refund_payment", action: .command(participant: "payments"), timeout: .seconds(5),
                     retry: .untilAnswered(maximumTimeout: .seconds(40))),
            SagaStep(name: "release_stock", action: .local),
        ])
        let machine = SagaStateMachine(definition: definition)
        var ids = 0
        func next() -> UUID { ids += 1; return UUID(uuidString: String(format: "00000000-0000-0000-0000-%012d", ids))! }
        var transition = machine.transition(.initial, .start, newCommandID: next)
        guard case .execute(let first) = try #require(transition.effects.first) else { Issue.record("no refund sent"); return }
        for attempt in 2...51 {
            transition = machine.transition(transition.state, .deadlinePassed(commandID: first.commandID), newCommandID: next)
            guard case .execute(let retry) = try #require(transition.effects.first) else { Issue.record("attempt \(attempt): no re-send"); return }
            #expect(retry.commandID == first.commandID && retry.attempt == attempt && retry.direction == .forward)
            #expect(retry.timeout <= .seconds(40))
        }
        #expect(transition.state.phase == .forward(step: 0, attempt: 51))
        transition = machine.transition(transition.state, .outcome(commandID: first.commandID, .succeeded), newCommandID: next)
        #expect(transition.effects.compactMap { effect -> String? in
            if case .execute(let execution) = effect { execution.name } else { nil }
        } == ["release_stock"])
        #expect(SagaRetryPolicy.untilAnswered().maximumAttempts == nil)
        #expect(SagaRetryPolicy(maximumAttempts: 2).retries(after: 1) && !SagaRetryPolicy(maximumAttempts: 2).retries(after: 2))
    }

    @Test("backoff doubles and is capped")
    func backoff() {
        let policy = SagaRetryPolicy(maximumAttempts: 6, maximumTimeout: .seconds(30))
        #expect((1...6).map { policy.timeout(base: .seconds(5), attempt: $0) } == [.seconds(5), .seconds(10), .seconds(20), .seconds(30), .seconds(30), .seconds(30)])
    }

    @Test("compensations are re-sent until they answer")
    func compensationRetries() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed(); _ = driver.succeed()
        _ = driver.fail("cancelled")
        for attempt in 2...6 { #expect(SagaDriver.executions(driver.timeOut()) == ["void_payment#\(attempt)"]) }
        #expect(SagaDriver.executions(driver.succeed()) == ["release_stock#1"])
    }

    @Test("a compensation that fails is recorded and the walk goes on")
    func compensationFailure() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed(); _ = driver.succeed()
        _ = driver.fail("cancelled")
        let failed = driver.fail("nothing to void")
        #expect(SagaDriver.executions(failed) == ["release_stock#1"])
        #expect(failed.timeline.contains { $0.kind == .failed && $0.detail?.contains("nothing to void") == true })
    }

    @Test("duplicate and late replies, stale deadlines and replies after the end change nothing")
    func ignored() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start)
        let reserve = driver.awaited
        _ = driver.succeed()
        let before = driver.state
        for input in [SagaInput.outcome(commandID: reserve, .succeeded), .outcome(commandID: reserve, .failed(reason: "x")),
                      .deadlinePassed(commandID: reserve), .outcome(commandID: UUID(), .succeeded), .start] {
            let transition = driver.apply(input)
            #expect(transition.effects.isEmpty)
            #expect(transition.timeline.map(\.kind) == [.ignored])
            #expect(driver.state == before)
        }
        while !driver.state.phase.isTerminal { _ = driver.succeed() }
        let end = driver.state
        #expect(driver.apply(.outcome(commandID: reserve, .succeeded)).effects.isEmpty)
        #expect(driver.apply(.deadlinePassed(commandID: reserve)).effects.isEmpty)
        #expect(driver.state == end)
    }

    @Test("a late reply to an earlier attempt is the reply (same command id)")
    func lateReplyAfterRetry() {
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed()
        let id = driver.awaited
        _ = driver.timeOut()
        #expect(SagaDriver.executions(driver.apply(.outcome(commandID: id, .succeeded))) == ["approve_order#1"])
    }

    @Test("inputs before start are ignored; the timeline records each step")
    func beforeStartAndTimeline() {
        var driver = SagaDriver(Self.definition)
        #expect(driver.apply(.outcome(commandID: UUID(), .succeeded)).timeline.map(\.kind) == [.ignored])
        #expect(driver.apply(.start).timeline.map(\.kind) == [.started, .localRun])
        #expect(driver.succeed().timeline.map(\.kind) == [.succeeded, .commandSent])
    }

    @Test("a phase the definition has is admitted; one past its steps, a compensation of a step without one, or attempt 0 is not")
    func admittedPhases() {
        let definition = Self.definition
        #expect([SagaPhase.notStarted, .succeeded, .compensated].allSatisfy(definition.admits))
        #expect(definition.admits(.forward(step: 0, attempt: 1)) && definition.admits(.forward(step: 3, attempt: 7)))
        #expect(definition.admits(.compensating(step: 2, attempt: 1)))
        #expect(!definition.admits(.forward(step: 4, attempt: 1)), "past the last step")
        #expect(!definition.admits(.forward(step: -1, attempt: 1)))
        #expect(!definition.admits(.forward(step: 0, attempt: 0)))
        #expect(!definition.admits(.compensating(step: 1, attempt: 1)), "validate_customer has no compensation")
        #expect(!definition.admits(.compensating(step: 9, attempt: 1)))
        // Every phase the machine itself reaches is admitted.
        var driver = SagaDriver(Self.definition)
        _ = driver.apply(.start); _ = driver.succeed(); _ = driver.succeed()
        _ = driver.timeOut(); _ = driver.fail("declined")
        #expect(definition.admits(driver.state.phase), "\(driver.state.phase)")
    }
}
