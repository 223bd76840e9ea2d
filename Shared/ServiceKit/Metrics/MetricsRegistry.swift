public import Prometheus

/// The process-wide Prometheus registry that swift-metrics is bootstrapped with.
///
/// `GET /metrics` renders this registry in the Prometheus text format.
public enum MetricsRegistry {
    /// The registry every metric of this process lands in.
    public static let shared = PrometheusCollectorRegistry()

    /// Renders every metric in the text exposition format.
    public static func render() -> String {
        shared.emitToString()
    }
}
