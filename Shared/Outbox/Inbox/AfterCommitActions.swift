import NIOConcurrencyHelpers

/// The actions handlers registered with ``HandlerContext/afterCommit(_:)`` for one transaction.
final class AfterCommitActions: Sendable {
    private let actions = NIOLockedValueBox<[@Sendable () async -> Void]>([])

    func add(_ action: @escaping @Sendable () async -> Void) {
        actions.withLockedValue { $0.append(action) }
    }

    /// Runs the actions in registration order, once.
    func run() async {
        let pending = actions.withLockedValue { actions in
            defer { actions.removeAll() }
            return actions
        }
        for action in pending { await action() }
    }
}
