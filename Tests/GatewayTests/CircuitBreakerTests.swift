@testable import Gateway
import Testing

@Suite("Circuit breaker state machine")
struct CircuitBreakerTests {
    let t0 = ContinuousClock.now
    static func fresh() -> CircuitBreaker { CircuitBreaker(configuration: .init(failureThreshold: 3, openDuration: .seconds(5))) }

    @Test("opens after the threshold of consecutive failures; a success in between resets the count")
    func opens() {
        var breaker = Self.fresh()
        for _ in 0..<2 { #expect(breaker.admit(at: t0) == .allowed); breaker.record(.failure, at: t0) }
        breaker.record(.success, at: t0)
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.state == .open(until: t0 + .seconds(5)))
        #expect(breaker.admit(at: t0 + .seconds(2)) == .rejected(retryAfter: .seconds(3)))
        #expect(breaker.gaugeValue == 2)
    }

    @Test("after the open period exactly one trial goes; its success closes the breaker")
    func trialSucceeds() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.admit(at: t0 + .seconds(5)) == .trial)
        #expect(breaker.state == .halfOpen)
        #expect(breaker.admit(at: t0 + .seconds(5)) == .rejected(retryAfter: .seconds(5)), "only one trial at a time")
        breaker.record(.success, trial: true, at: t0 + .seconds(6))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.admit(at: t0 + .seconds(6)) == .allowed)
    }

    @Test("a failed trial re-opens it for another full period")
    func trialFails() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.admit(at: t0 + .seconds(7)) == .trial)
        breaker.record(.failure, trial: true, at: t0 + .seconds(8))
        #expect(breaker.state == .open(until: t0 + .seconds(13)))
    }

    @Test("late results of requests admitted before it opened do not change an open breaker")
    func lateResults() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        breaker.record(.success, at: t0 + .seconds(1))
        breaker.record(.failure, at: t0 + .seconds(1))
        #expect(breaker.state == .open(until: t0 + .seconds(5)))
    }

    @Test("while half-open only the trial decides: late results of requests admitted earlier change nothing")
    func onlyTheTrialDecides() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.admit(at: t0 + .seconds(5)) == .trial)
        breaker.record(.failure, at: t0 + .seconds(6))
        #expect(breaker.state == .halfOpen, "a late failure does not re-open it")
        breaker.record(.success, at: t0 + .seconds(6))
        #expect(breaker.state == .halfOpen, "a late success does not close it")
        breaker.record(.success, trial: true, at: t0 + .seconds(7))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
    }

    @Test("a trial that never reached the upstream (the gateway's pool was full) hands the trial to the next request")
    func inconclusiveTrial() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.admit(at: t0 + .seconds(5)) == .trial)
        breaker.record(.inconclusive, trial: true, at: t0 + .seconds(6))
        #expect(breaker.admit(at: t0 + .seconds(6)) == .trial)
        breaker.record(.inconclusive, at: t0 + .seconds(6))
        #expect(breaker.state == .halfOpen, "an inconclusive non-trial changes nothing")
        var closed = Self.fresh()
        closed.record(.failure, at: t0)
        closed.record(.inconclusive, at: t0)
        #expect(closed.state == .closed(consecutiveFailures: 1), "neither a success nor a failure")
    }

    @Test("it refuses only while open and within its period: readiness follows that, not the stored state")
    func refusing() {
        var breaker = Self.fresh()
        #expect(!breaker.isRefusing(at: t0))
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.isRefusing(at: t0 + .seconds(4)))
        #expect(!breaker.isRefusing(at: t0 + .seconds(5)), "the period is over: the next request is the trial")
        #expect(breaker.state == .open(until: t0 + .seconds(5)), "no request came: still stored as open")
    }
}
