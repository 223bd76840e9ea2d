import Metrics

/// What one transaction did to sagas — started, finished — for `sagas_started_total{saga}` and
/// `sagas_finished_total{saga,outcome}`. Recorded only once that transaction has committed: a
/// transaction that rolls back (and an inbox message that is then retried) would otherwise
/// count the same saga twice.
struct SagaTally: Sendable {
    /// How a finished saga ended, as the metric's `outcome` label.
    enum Ending: String, Sendable {
        case succeeded
        case compensated
        /// Stopped past its pivot for an operator (``SagaPhase/halted(step:)``).
        case halted
    }

    private(set) var started: [SagaKind] = []
    private(set) var finished: [(kind: SagaKind, ending: Ending)] = []

    mutating func start(_ kind: SagaKind) { started.append(kind) }

    mutating func finish(_ kind: SagaKind, _ ending: Ending) { finished.append((kind, ending)) }

    /// Counts what the committed transaction did.
    func record() {
        for kind in started {
            Counter(label: "sagas_started_total", dimensions: [("saga", kind.rawValue)]).increment()
        }
        for (kind, ending) in finished {
            Counter(label: "sagas_finished_total", dimensions: [("saga", kind.rawValue), ("outcome", ending.rawValue)]).increment()
        }
    }
}
