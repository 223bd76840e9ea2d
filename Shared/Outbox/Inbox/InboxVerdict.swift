/// What became of one attempt at a consumed message.
enum InboxVerdict: Sendable {
    /// The handler's transaction committed.
    case processed
    /// The inbox already had it: skipped.
    case duplicate
    /// A catalog type this consumer has no handler for: skipped.
    case notHandled
    /// It can never succeed: dead-letter it with this reason.
    case deadLetter(String)
    /// A transient failure: back off and try again.
    case retry(any Error)
}
