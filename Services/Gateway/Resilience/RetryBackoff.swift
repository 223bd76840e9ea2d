import HTTPTypes

/// When to retry an upstream call: only idempotent methods, only failures where no response
/// arrived or the upstream said it was unavailable, with capped exponential backoff and full jitter.
struct RetryBackoff: Sendable, Equatable {
    var base: Duration = .milliseconds(25)
    var cap: Duration = .milliseconds(400)

    /// Methods that may be sent twice without a second effect (RFC 9110 §9.2.2).
    static func isIdempotent(_ method: HTTPRequest.Method) -> Bool {
        switch method {
        case .get, .head, .options, .put, .delete, .trace: true
        default: false
        }
    }

    /// The delay before retry number `attempt` (1-based), drawn uniformly from 0…min(cap, base·2^(attempt-1)).
    func delay(beforeRetry attempt: Int, using generator: inout some RandomNumberGenerator) -> Duration {
        let exponent = min(max(attempt - 1, 0), 16)
        let ceiling = min(cap, base * (1 << exponent))
        let ceilingNanoseconds = ceiling.nanoseconds
        guard ceilingNanoseconds > 0 else { return .zero }
        return .nanoseconds(Int64.random(in: 0...ceilingNanoseconds, using: &generator))
    }
}

extension Duration {
    /// Whole nanoseconds (the unit NIO and swift-metrics take).
    var nanoseconds: Int64 {
        components.seconds * 1_000_000_000 + components.attoseconds / 1_000_000_000
    }
}
