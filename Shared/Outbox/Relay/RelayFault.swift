/// Failures a test (or a demo) can inject into an ``OutboxRelay``.
public enum RelayFault: Sendable, Equatable {
    /// Behave normally.
    case none
    /// After the first batch was acknowledged by the broker and before it is marked published,
    /// stop dead: the leadership connection is dropped without marking, as if the process were
    /// killed, and ``OutboxRelay/run()`` throws ``OutboxRelayError/crashed``.
    case crashAfterProduceBeforeMark
}

/// Why an ``OutboxRelay`` stopped.
public enum OutboxRelayError: Error, Sendable, Equatable {
    /// An injected ``RelayFault`` fired.
    case crashed
    /// The notification stream of the leadership connection ended (the connection is gone).
    case notificationsEnded
    /// A statement ran far longer than any should; the connection was dropped.
    case statementStalled
    /// A relay statement that always returns one row returned none.
    case missingRow
}
