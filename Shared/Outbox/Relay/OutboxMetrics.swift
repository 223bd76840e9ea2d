import Metrics

/// The relay's metrics, labelled with the schema (one relay per service).
struct OutboxMetrics: Sendable {
    let backlog: Gauge
    let oldestAge: Gauge
    let published: Counter
    let failures: Counter
    let batchSize: Recorder
    let leader: Gauge

    init(schema: String) {
        let dimensions = [("schema", schema)]
        backlog = Gauge(label: "outbox_backlog", dimensions: dimensions)
        oldestAge = Gauge(label: "outbox_oldest_unpublished_age_seconds", dimensions: dimensions)
        published = Counter(label: "outbox_published_total", dimensions: dimensions)
        failures = Counter(label: "outbox_publish_failures_total", dimensions: dimensions)
        batchSize = Recorder(label: "outbox_batch_size", dimensions: dimensions)
        leader = Gauge(label: "outbox_relay_leader", dimensions: dimensions)
    }
}
