public import ServiceKit

/// How an ``OutboxRelay`` batches, waits and cleans up.
public struct OutboxRelaySettings: Sendable, Equatable {
    /// `OUTBOX_BATCH_SIZE`: rows read, produced and awaited together.
    public var batchSize: Int
    /// `OUTBOX_POLL_INTERVAL_MS`: the fallback wake-up when no notification arrives.
    public var pollInterval: Duration
    /// `OUTBOX_LEADER_RETRY_MS`: how often a standby tries to take the lock (the take-over time).
    public var leaderRetry: Duration
    /// `OUTBOX_RETENTION_HOURS`: published rows older than this are deleted.
    public var retention: Duration
    /// `INBOX_RETENTION_HOURS`: inbox records (`processed_messages`) older than this are
    /// deleted. It must outlast any redelivery the inbox has to recognise: Kafka's retention
    /// (Apache Kafka's default is 168 hours), and the outbox retention, after which a saga retry
    /// re-appends its command under the same id (so it must be above `OUTBOX_RETENTION_HOURS`).
    /// Handlers are idempotent by business key too, so a duplicate older than this repeats its
    /// answer rather than its effect.
    public var inboxRetention: Duration
    /// How often the leader refreshes the backlog metrics.
    public var metricsInterval: Duration
    /// `OUTBOX_PRUNE_INTERVAL_MS`: how often the leader prunes published rows, inbox records and
    /// the service's ``expiredRows``.
    public var pruneInterval: Duration
    /// The pause after a batch in which some records failed, before trying them again.
    public var failureBackoff: Duration
    /// The longest any statement on the relay's connection may run — a standby's lock attempt,
    /// the `LISTEN`, a fetch, a mark, a pruning chunk — before the connection is dropped and the
    /// relay reconnects (``QueryWatch``): a connection that died without the client noticing
    /// would otherwise hold a leader's term, or a standby's campaign, for ever.
    public var statementLimit: Duration = .seconds(30)
    /// Rows one pruning `DELETE` removes at most (each is its own statement, under the relay's
    /// statement limit).
    public var pruneChunkRows = 10_000
    /// `DELETE`s per table in one pruning pass; a longer backlog is pruned over several passes,
    /// with a fetch between them, so pruning never holds up publishing for long.
    public var pruneChunksPerPass = 5
    /// The service's own tables the leader prunes too.
    public var expiredRows: [ExpiredRows] = []

    /// Creates settings; the defaults suit a service.
    public init(
        batchSize: Int = 500, pollInterval: Duration = .seconds(1), leaderRetry: Duration = .seconds(1),
        retention: Duration = .seconds(24 * 3_600), inboxRetention: Duration = .seconds(168 * 3_600), metricsInterval: Duration = .seconds(5),
        pruneInterval: Duration = .seconds(60), failureBackoff: Duration = .seconds(1)
    ) {
        self.batchSize = batchSize
        self.pollInterval = pollInterval
        self.leaderRetry = leaderRetry
        self.retention = retention
        self.inboxRetention = inboxRetention
        self.metricsInterval = metricsInterval
        self.pruneInterval = pruneInterval
        self.failureBackoff = failureBackoff
    }

    /// `OUTBOX_BATCH_SIZE`.
    public static let batchSizeKey = SettingKey("outbox.batch.size", expecting: "an integer 1-10000")
    /// `OUTBOX_POLL_INTERVAL_MS`.
    public static let pollIntervalKey = SettingKey("outbox.poll.interval.ms", expecting: "a positive number of milliseconds")
    /// `OUTBOX_LEADER_RETRY_MS`.
    public static let leaderRetryKey = SettingKey("outbox.leader.retry.ms", expecting: "a positive number of milliseconds")
    /// `OUTBOX_PRUNE_INTERVAL_MS`.
    public static let pruneIntervalKey = SettingKey("outbox.prune.interval.ms", expecting: "a positive number of milliseconds")
    /// `OUTBOX_RETENTION_HOURS`.
    public static let retentionKey = SettingKey("outbox.retention.hours", expecting: "an integer number of hours 1-8760")

    /// `INBOX_RETENTION_HOURS`.
    public static let inboxRetentionKey = SettingKey(
        "inbox.retention.hours", expecting: "an integer number of hours above OUTBOX_RETENTION_HOURS, at most 8761")

    /// Reads the settings that are set, keeping defaults for the rest.
    public static func read(from settings: Settings) throws(ConfigurationError) -> OutboxRelaySettings {
        var result = OutboxRelaySettings()
        if let size = try settings.optionalParsed(batchSizeKey, { Int($0).flatMap { (1...10_000).contains($0) ? $0 : nil } }) {
            result.batchSize = size
        }
        if settings.optionalString(pollIntervalKey) != nil { result.pollInterval = try settings.milliseconds(pollIntervalKey) }
        if settings.optionalString(leaderRetryKey) != nil { result.leaderRetry = try settings.milliseconds(leaderRetryKey) }
        if settings.optionalString(pruneIntervalKey) != nil { result.pruneInterval = try settings.milliseconds(pruneIntervalKey) }
        if let hours = try settings.optionalParsed(retentionKey, { Int($0).flatMap { (1...8_760).contains($0) ? $0 : nil } }) {
            result.retention = .seconds(hours * 3_600)
        }
        // The inbox must remember a message for longer than the outbox may re-send it (a saga
        // retry re-appends a pruned command under its old id); unset, it is 168 hours or one
        // hour more than the outbox's retention.
        let outboxHours = Int(result.retention.components.seconds / 3_600)
        if let hours = try settings.optionalParsed(inboxRetentionKey, { Int($0).flatMap { $0 > outboxHours && $0 <= 8_761 ? $0 : nil } }) {
            result.inboxRetention = .seconds(hours * 3_600)
        } else {
            result.inboxRetention = .seconds(max(168, outboxHours + 1) * 3_600)
        }
        return result
    }
}
