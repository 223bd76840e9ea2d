import HTTPTypes
import Metrics
import Synchronization

/// The per-route RED metrics of requests answered on the event-loop path, under the same names
/// and dimensions as Hummingbird's `MetricsMiddleware` records for the router's requests
/// (`hb_requests`, `http_server_request_duration_seconds`), so dashboards see one series per
/// route whichever path served it; plus `gateway_fast_path_requests_total`, how many took this path.
final class ForwardedRequestMetrics: Sendable {
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

    /// Records one answered GET on `route` (the router's pattern, such as `/api/v1/**`).
    func record(route: String, status: HTTPResponse.Status, nanoseconds: Int64) {
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
