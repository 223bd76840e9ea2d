/// A circuit breaker as a pure value: closed → open after `failureThreshold` consecutive
/// failures; open → half-open (exactly one trial request) after `openDuration`; the trial's
/// result — and only the trial's — closes or re-opens it. Every transition is an exhaustive
/// switch, unit-tested without I/O.
struct CircuitBreaker: Sendable, Equatable {
    /// The breaker's tuning.
    struct Configuration: Sendable, Equatable {
        var failureThreshold: Int
        var openDuration: Duration
    }

    /// Where the breaker is.
    enum State: Sendable, Equatable {
        case closed(consecutiveFailures: Int)
        case open(until: ContinuousClock.Instant)
        case halfOpen
    }

    /// What ``admit(at:)`` decided.
    enum Admission: Sendable, Equatable {
        /// Send the request.
        case allowed
        /// Send it as the single trial of a half-open breaker.
        case trial
        /// Answer 503 at once; the breaker may admit a trial after `retryAfter`.
        case rejected(retryAfter: Duration)
    }

    /// How a request that was admitted ended.
    enum Outcome: Sendable, Equatable {
        /// The upstream answered.
        case success
        /// No answer, a timeout, a broken answer or a 502–504.
        case failure
        /// The request never reached the upstream (the gateway's own pool was full): it says
        /// nothing about the upstream's health.
        case inconclusive
    }

    let configuration: Configuration
    private(set) var state: State = .closed(consecutiveFailures: 0)

    init(configuration: Configuration) {
        self.configuration = configuration
    }

    /// Decides whether a request may go to the upstream now.
    mutating func admit(at now: ContinuousClock.Instant) -> Admission {
        switch state {
        case .closed:
            return .allowed
        case .open(let until) where now >= until:
            state = .halfOpen
            return .trial
        case .open(let until):
            return .rejected(retryAfter: until - now)
        case .halfOpen:
            // The trial is still out; everyone else waits for its verdict.
            return .rejected(retryAfter: configuration.openDuration)
        }
    }

    /// Records how an admitted request ended; `trial` says whether ``admit(at:)`` admitted it
    /// as the trial (``Admission/trial``).
    mutating func record(_ outcome: Outcome, trial: Bool = false, at now: ContinuousClock.Instant) {
        switch (state, outcome) {
        case (.closed, .success):
            state = .closed(consecutiveFailures: 0)
        case (.closed(let failures), .failure):
            state = failures + 1 >= configuration.failureThreshold
                ? .open(until: now + configuration.openDuration)
                : .closed(consecutiveFailures: failures + 1)
        case (.closed, .inconclusive):
            break
        case (.halfOpen, _) where !trial:
            // A request admitted before the breaker opened finished late, while the trial is
            // out: only the trial decides.
            break
        case (.halfOpen, .success):
            state = .closed(consecutiveFailures: 0)
        case (.halfOpen, .failure):
            state = .open(until: now + configuration.openDuration)
        case (.halfOpen, .inconclusive):
            // The trial never reached the upstream: the next request is the trial.
            state = .open(until: now)
        case (.open, _):
            // A request admitted before the breaker opened finished late: the verdict stands.
            break
        }
    }

    /// Whether requests are being refused now: open, and the open period not over. (Once it
    /// is over, the next request is admitted as the trial.)
    func isRefusing(at now: ContinuousClock.Instant) -> Bool {
        switch state {
        case .open(let until): now < until
        case .closed, .halfOpen: false
        }
    }

    /// The state as a number for the `gateway_circuit_breaker_state` gauge: 0 closed, 1 half-open, 2 open.
    var gaugeValue: Int {
        switch state {
        case .closed: 0
        case .halfOpen: 1
        case .open: 2
        }
    }
}
