import NIOConcurrencyHelpers

/// Awaits `operation` (started in its own task) unless the waiting task is cancelled first,
/// in which case it returns nil at once and the operation carries on unobserved. For waits that
/// cannot be cancelled themselves, such as a batch's delivery reports.
func unlessCancelled<T: Sendable>(_ operation: @escaping @Sendable () async -> T) async -> T? {
    let outcome = OneShot<T?>()
    Task { outcome.resume(with: await operation()) }
    return await withTaskCancellationHandler {
        await outcome.value()
    } onCancel: {
        outcome.resume(with: nil)
    }
}

/// `operation`'s result, unless the waiting task is cancelled first: then `CancellationError` at
/// once, and the operation carries on unobserved. For statements on a connection that may have
/// died: PostgresNIO never completes a query written after a closed connection's handlers were
/// removed, so a relay waiting on one could never reconnect (`RelayTests.connectionKilled`).
func abandonable<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T) async throws -> T {
    let outcome = await unlessCancelled { () -> Result<T, any Error> in
        do { return .success(try await operation()) } catch { return .failure(error) }
    }
    guard let outcome else { throw CancellationError() }
    return try outcome.get()
}

/// A value delivered once; later deliveries are ignored.
private final class OneShot<T: Sendable>: Sendable {
    private struct State {
        var value: T?
        var delivered = false
        var waiter: CheckedContinuation<T, Never>?
    }

    private let state = NIOLockedValueBox(State())

    func resume(with value: T) {
        let waiter = state.withLockedValue { state -> CheckedContinuation<T, Never>? in
            guard !state.delivered else { return nil }
            state.delivered = true
            state.value = value
            defer { state.waiter = nil }
            return state.waiter
        }
        waiter?.resume(returning: value)
    }

    func value() async -> T {
        await withCheckedContinuation { continuation in
            let ready = state.withLockedValue { state -> T? in
                guard state.delivered, let value = state.value else {
                    state.waiter = continuation
                    return nil
                }
                return value
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
