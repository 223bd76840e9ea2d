/// Capped exponential backoff for transient handler failures: `initial`, then ×`multiplier`
/// per attempt, never more than `maximum`.
public struct RetryPolicy: Sendable, Equatable {
    /// The delay after the first failure.
    public var initial: Duration
    /// The cap.
    public var maximum: Duration
    /// The growth factor per further failure.
    public var multiplier: Int

    /// Creates a policy.
    public init(initial: Duration = .milliseconds(100), maximum: Duration = .seconds(30), multiplier: Int = 2) {
        self.initial = initial
        self.maximum = max(maximum, initial)
        self.multiplier = max(multiplier, 1)
    }

    /// The delay before retrying after `failures` consecutive failures (1 = the first).
    public func delay(afterFailures failures: Int) -> Duration {
        var delay = initial
        var step = 1
        while step < failures, delay < maximum {
            delay = delay * multiplier
            step += 1
        }
        return min(delay, maximum)
    }
}
