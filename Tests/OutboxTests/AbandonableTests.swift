@testable import Outbox
import Testing

/// `abandonable`: a relay statement that never completes (PostgresNIO drops a query written to
/// a closed connection) must not keep a cancelled relay from reconnecting.
@Suite("Abandonable waits")
struct AbandonableTests {
    @Test("a cancelled waiter gets CancellationError although the operation never finishes", .timeLimit(.minutes(1)))
    func cancelledWaiterIsReleased() async throws {
        let waiter = Task {
            try await abandonable { () async throws -> Int in
                // Stands for the dropped query: never completes, and is not cancelled with the waiter.
                await withCheckedContinuation { (_: CheckedContinuation<Void, Never>) in }
                return 0
            }
        }
        try await Task.sleep(for: .milliseconds(50))
        waiter.cancel()
        await #expect(throws: CancellationError.self) { try await waiter.value }
    }

    @Test("results and errors of an operation that finishes pass through")
    func passesThrough() async throws {
        #expect(try await abandonable { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await abandonable { () async throws -> Int in throw Failure() } }
    }
}
