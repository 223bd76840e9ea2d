public import Logging
import Metrics
import NIOConcurrencyHelpers
import OTel
import Prometheus
public import ServiceLifecycle

/// Process-wide observability: JSON logs, Prometheus metrics, and tracing.
///
/// swift-log, swift-metrics and swift-distributed-tracing can each be bootstrapped once per
/// process; ``bootstrap(service:logLevel:tracing:)`` does all three at most once and is safe to
/// call again (tests call it from many suites).
public enum Observability {
    private struct State {
        var didBootstrapLoggingAndMetrics = false
        var didBootstrapTracing = false
    }

    private static let state = NIOLockedValueBox(State())

    /// Bootstraps logging, metrics and (when configured) tracing.
    /// - Returns: The tracing exporter's service to run in the service group, if tracing is on.
    @discardableResult
    public static func bootstrap(
        service: String,
        logLevel: Logger.Level,
        tracing: TracingSettings = TracingSettings(otlpEndpoint: nil)
    ) throws -> (any Service)? {
        try state.withLockedValue { state -> (any Service)? in
            if !state.didBootstrapLoggingAndMetrics {
                // Adds trace_id / span_id of the current span to every log line.
                let provider = OTel.makeLoggingMetadataProvider()
                LoggingSystem.bootstrap({ label, metadataProvider in
                    JSONLogHandler(label: label, service: service, level: logLevel, metadataProvider: metadataProvider)
                }, metadataProvider: provider)
                var factory = PrometheusMetricsFactory(registry: MetricsRegistry.shared)
                factory.valueHistogramBuckets["outbox_batch_size"] = [1, 2, 5, 10, 25, 50, 100, 250, 500, 1_000, 2_000]
                // A saga takes milliseconds when every participant answers, minutes when one is
                // down and its step is retried (waits double up to a minute); a refund or a
                // compensation is re-sent until answered, so the last bucket is an hour.
                factory.durationHistogramBuckets["saga_duration_seconds"] = [
                    .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
                    .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(120), .seconds(300), .seconds(600), .seconds(1_800), .seconds(3_600),
                ]
                MetricsSystem.bootstrap(factory)
                state.didBootstrapLoggingAndMetrics = true
            }
            guard !state.didBootstrapTracing, tracing.otlpEndpoint != nil else { return nil }
            state.didBootstrapTracing = true
            return try TracingBootstrap.bootstrap(service: service, settings: tracing)
        }
    }
}
