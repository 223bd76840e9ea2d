import Metrics

/// What one transaction did to sagas — started, finished, and how long a finished one ran — for
/// `sagas_started_total{saga}`, `sagas_finished_total{saga,outcome}` and
/// `saga_duration_seconds{saga,outcome}`. Recorded only once that transaction has committed: a
/// transaction that rolls back (and an inbox message that is then retried) would otherwise
/// count the same saga twice.
struct SagaTally: Sendable {
    /// How a finished saga ended, as the metrics' `outcome` label.
    enum Ending: String, Sendable, CaseIterable {
        case succeeded
        case compensated
        /// Stopped at or past its pivot for an operator (``SagaPhase/halted(step:)``).
        case halted
    }

    /// A saga that finished in the transaction; `ran` is known once its row is written.
    struct Finish: Sendable {
        let kind: SagaKind
        let ending: Ending
        var ran: Duration?
    }

    private(set) var started: [SagaKind] = []
    private(set) var finished: [Finish] = []

    mutating func start(_ kind: SagaKind) { started.append(kind) }

    mutating func finish(_ kind: SagaKind, _ ending: Ending) { finished.append(Finish(kind: kind, ending: ending)) }

    /// How long the saga that finished in this transaction ran (a transaction advances one saga).
    mutating func setRunTime(_ duration: Duration) {
        for index in finished.indices where finished[index].ran == nil { finished[index].ran = duration }
    }

    /// Creates every saga counter at zero, at start-up: a series that first appears at 1 has
    /// no `increase` for Prometheus, so an alert on the first halted saga would never fire.
    static func registerSeries() {
        for kind in SagaKind.allCases {
            Self.startedCounter(kind).increment(by: 0)
            for ending in Ending.allCases { Self.finishedCounter(kind, ending).increment(by: 0) }
        }
    }

    /// Counts what the committed transaction did.
    func record() {
        for kind in started { Self.startedCounter(kind).increment() }
        for finish in finished {
            Self.finishedCounter(finish.kind, finish.ending).increment()
            if let ran = finish.ran {
                Timer(label: "saga_duration_seconds", dimensions: Self.endingDimensions(finish.kind, finish.ending),
                      preferredDisplayUnit: .seconds).record(duration: ran)
            }
        }
    }

    private static func startedCounter(_ kind: SagaKind) -> Counter {
        Counter(label: "sagas_started_total", dimensions: [("saga", kind.rawValue)])
    }

    private static func finishedCounter(_ kind: SagaKind, _ ending: Ending) -> Counter {
        Counter(label: "sagas_finished_total", dimensions: endingDimensions(kind, ending))
    }

    private static func endingDimensions(_ kind: SagaKind, _ ending: Ending) -> [(String, String)] {
        [("saga", kind.rawValue), ("outcome", ending.rawValue)]
    }
}
