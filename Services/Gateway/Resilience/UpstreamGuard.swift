import Metrics
import Synchronization

/// One upstream's circuit breaker and concurrency limit, shared by every request to it.
final class UpstreamGuard: Sendable {
    let upstream: UpstreamName
    private let breaker: Mutex<CircuitBreaker>
    private let inFlight = Atomic<Int>(0)
    private let concurrencyLimit: Int
    private let breakerGauge: Gauge
    private let inFlightGauge: Gauge

    init(upstream: UpstreamName, policy: UpstreamPolicy) {
        self.upstream = upstream
        self.breaker = Mutex(CircuitBreaker(configuration: policy.breaker))
        self.concurrencyLimit = policy.concurrency
        self.breakerGauge = Gauge(label: "gateway_circuit_breaker_state", dimensions: [("upstream", upstream.rawValue)])
        self.inFlightGauge = Gauge(label: "gateway_upstream_in_flight", dimensions: [("upstream", upstream.rawValue)])
        breakerGauge.record(0)
    }

    /// Takes one of the upstream's concurrency slots; false when all are taken.
    func acquireSlot() -> Bool {
        let (previous, _) = inFlight.add(1, ordering: .relaxed)
        guard previous < concurrencyLimit else {
            inFlight.subtract(1, ordering: .relaxed)
            return false
        }
        inFlightGauge.record(previous + 1)
        return true
    }

    /// Gives a slot back.
    func releaseSlot() {
        let (_, now) = inFlight.subtract(1, ordering: .relaxed)
        inFlightGauge.record(now)
    }

    /// Asks the breaker whether a request may go now.
    func admit() -> CircuitBreaker.Admission {
        let (admission, gauge) = breaker.withLock { breaker in
            (breaker.admit(at: .now), breaker.gaugeValue)
        }
        breakerGauge.record(gauge)
        return admission
    }

    /// Tells the breaker how an admitted request ended (`trial`: it was admitted as the trial).
    func record(_ outcome: CircuitBreaker.Outcome, trial: Bool) {
        let gauge = breaker.withLock { breaker in
            breaker.record(outcome, trial: trial, at: .now)
            return breaker.gaugeValue
        }
        breakerGauge.record(gauge)
    }

    /// The breaker's current state (for tests).
    var breakerState: CircuitBreaker.State { breaker.withLock { $0.state } }

    /// Whether the breaker refuses requests now (for readiness): an open breaker whose period
    /// is over admits the next request as its trial, so it does not make the gateway unready.
    var breakerRefusing: Bool { breaker.withLock { $0.isRefusing(at: .now) } }
}
