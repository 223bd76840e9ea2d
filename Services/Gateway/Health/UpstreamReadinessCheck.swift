import AsyncHTTPClient
import ServiceKit

/// Readiness of one upstream: its own `/health/ready` answers 200 (its Postgres, Kafka and
/// Redis included) and its circuit breaker is not refusing requests.
struct UpstreamReadinessCheck: DependencyCheck {
    let upstream: UpstreamName
    let url: String
    let client: HTTPClient
    let upstreamGuard: UpstreamGuard?

    var name: String { upstream.rawValue }

    func check() async throws {
        if upstreamGuard?.breakerRefusing == true { throw UpstreamCheckFailure(reason: "circuit breaker open") }
        let response = try await client.execute(HTTPClientRequest(url: url + "/health/ready"), timeout: .seconds(2))
        _ = try? await response.body.collect(upTo: 64 * 1_024)
        guard response.status.code == 200 else { throw UpstreamCheckFailure(reason: "not ready (HTTP \(response.status.code))") }
    }
}

/// Why an upstream is not ready.
struct UpstreamCheckFailure: Error, CustomStringConvertible, DependencyFailure {
    let reason: String
    var description: String { reason }
}
