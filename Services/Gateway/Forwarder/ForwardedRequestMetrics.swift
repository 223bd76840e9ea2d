import HTTPTypes
import Metrics
import Synchronization

/// The per-route RED metrics of requests answered on the event-loop path, under the same names
/// and dimensions as Hummingbird's `MetricsMiddleware` records for the router's requests
/// (`hb_requests`, `http_server_request_duration`, `http_server_active_requests`), so
/// dashboards see one series per route whichever path served it; plus
/// `gateway_fast_path_requests_total`, how many took this path.
///
/// As on the router path, a request is active from ``begin()`` until its answer's last byte was
/// written (or the connection ended), and its duration runs to that moment, streamed answers too.
final class ForwardedRequestMetrics: Sendable {
    /// A request in progress: what ``finish(_:)`` records once its answer is written.
    struct Measurement: Sendable {
        var route: String
        var status: HTTPResponse.Status
        let started: ContinuousClock.Instant
    }

    private struct Key: Hashable {
        var route: String
        var status: Int
    }

    private struct Series: Sendable {
        var requests: Counter
        var duration: Timer
    }

    private let series = Mutex<[Key: Series]>([:])
    private let served = Counter(label: "gateway_fast_path_requests_total")
    private let active = Meter(label: "http.server.active_requests", dimensions: [("http.request.method", "GET")])

    /// Counts a request as active from now; pass its measurement to ``finish(_:)`` exactly once.
    func begin() -> Measurement {
        active.increment()
        return Measurement(route: "/api/v1/**", status: .ok, started: .now)
    }

    /// Records one answered GET on its route (the router's pattern, such as `/api/v1/**`), with
    /// the time since ``begin()``, and ends its activity.
    func finish(_ measurement: Measurement) {
        record(route: measurement.route, status: measurement.status, nanoseconds: (ContinuousClock.now - measurement.started).nanoseconds)
        active.decrement()
    }

    private func record(route: String, status: HTTPResponse.Status, nanoseconds: Int64) {
        let key = Key(route: route, status: status.code)
        let entry = series.withLock { series in
            if let entry = series[key] { return entry }
            let dimensions = [
                ("http.route", route), ("http.request.method", "GET"), ("http.response.status_code", String(status.code)),
            ]
            let entry = Series(
                requests: Counter(label: "hb.requests", dimensions: dimensions),
                duration: Timer(label: "http.server.request.duration", dimensions: dimensions, preferredDisplayUnit: .seconds)
            )
            series[key] = entry
            return entry
        }
        entry.requests.increment()
        entry.duration.recordNanoseconds(nanoseconds)
        served.increment()
    }
}
