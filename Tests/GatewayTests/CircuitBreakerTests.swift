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
        breaker.record(.success, at: t0 + .seconds(6))
        #expect(breaker.state == .closed(consecutiveFailures: 0))
        #expect(breaker.admit(at: t0 + .seconds(6)) == .allowed)
    }

    @Test("a failed trial re-opens it for another full period")
    func trialFails() {
        var breaker = Self.fresh()
        for _ in 0..<3 { breaker.record(.failure, at: t0) }
        #expect(breaker.admit(at: t0 + .seconds(7)) == .trial)
        breaker.record(.failure, at: t0 + .seconds(8))
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
}
