/// How ``KafkaProducer/enqueue(_:ordering:)`` treats a record librdkafka refuses to queue, and
/// whether it may swap in a fresh client for a failed one.
public enum EnqueueOrdering: Sendable, Equatable {
    /// Every record is attempted, whatever happened to the ones before it; a client that needs
    /// replacement (fatal error, timed-out delivery) is replaced before the first record.
    case independent
    /// Nothing may overtake a record that failed: the first record refused stops the batch, and
    /// every later record fails with `_GAPLESS_GUARANTEE` without being attempted
    /// (``PendingDeliveries/firstRefused`` tells the caller at once). A batch cut short by a
    /// close or a cancellation while the queue was full stops the same way, its unqueued records
    /// failing with `_PURGE_QUEUE` from ``PendingDeliveries/firstRefused`` on. A client that needs
    /// replacement is kept when `replacingFailedClient` is false, so it refuses the batch
    /// (librdkafka refuses every record after a fatal error) instead of a fresh client sending
    /// it ahead of records still unsettled on the failed one; pass true only when nothing the
    /// caller sent earlier is still waiting for its delivery report.
    case gapless(replacingFailedClient: Bool)
}
