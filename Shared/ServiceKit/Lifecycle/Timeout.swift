/// The operation did not finish within its deadline.
public struct TimeoutError: Error, Sendable, CustomStringConvertible {
    /// The limit that was exceeded.
    public let limit: Duration

    public var description: String { "timed out after \(limit.milliseconds) ms" }
}

/// Runs `operation`, cancelling it and throwing ``TimeoutError`` if it takes longer than `limit`.
public func withTimeout<Value: Sendable>(
    _ limit: Duration,
    _ operation: @escaping @Sendable () async throws -> Value
) async throws -> Value {
    try await withThrowingTaskGroup(of: Value.self) { group in
        group.addTask { try await operation() }
        group.addTask {
            try await Task.sleep(for: limit)
            throw TimeoutError(limit: limit)
        }
        defer { group.cancelAll() }
        guard let first = try await group.next() else { throw TimeoutError(limit: limit) }
        return first
    }
}

extension Duration {
    /// Whole milliseconds.
    public var milliseconds: Int64 {
        let (seconds, attoseconds) = components
        return seconds * 1_000 + attoseconds / 1_000_000_000_000_000
    }

    /// Fractional milliseconds, for latency reports.
    public var fractionalMilliseconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) * 1_000 + Double(attoseconds) / 1e15
    }
}
