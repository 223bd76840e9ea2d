import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
import PostgresNIO
@testable import ServiceKit
import TestSupport
import Testing

/// `/health`, `/health/ready` against real and unreachable Postgres, and `/metrics`.
@Suite("Health, readiness and metrics")
struct HealthAndMetricsTests {
    init() throws {
        try Observability.bootstrap(service: "servicekit-tests", logLevel: .critical)
    }

    /// `timeout` bounds each readiness check: generous where Postgres must answer (the whole
    /// suite starts at once, and a loaded machine may take seconds for the first connection),
    /// short where nothing listens, so the 503 comes without a long wait.
    private func app(checks: [any DependencyCheck], timeout: Duration = .seconds(3)) -> some ApplicationProtocol {
        let readiness = ReadinessProbe(service: "test", checks: checks, timeout: timeout, logger: Logger(label: "test"))
        return Application(router: Router<AppRequestContext>.service("test", readiness: readiness, tracing: false))
    }

    private func report(_ response: TestResponse) throws -> ReadinessReport {
        try JSONDecoder().decode(ReadinessReport.self, from: Data(buffer: response.body))
    }

    @Test("ready when Postgres answers; each check has a status and a latency")
    func readyWithPostgres() async throws {
        try await TestStack.withClient(try TestStack.adminURL()) { client in
            try await app(checks: [PostgresCheck(client: client)], timeout: .seconds(60)).test(.router) { http in
                try await http.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .ok)
                    let report = try report(response)
                    #expect(report.status == "ready")
                    #expect(report.checks.map(\.name) == ["postgres"])
                    #expect(report.checks[0].status == "up")
                    #expect(report.checks[0].latencyMs >= 0)
                }
            }
        }
    }

    @Test("503 naming postgres when nothing listens at its address")
    func notReadyWithoutPostgres() async throws {
        try await TestStack.withClient(try TestStack.unreachableURL()) { client in
            try await app(checks: [PostgresCheck(client: client)]).test(.router) { http in
                try await http.execute(uri: "/health/ready", method: .get) { response in
                    #expect(response.status == .serviceUnavailable)
                    let report = try report(response)
                    #expect(report.status == "not_ready")
                    #expect(report.checks.first?.name == "postgres")
                    #expect(report.checks.first?.status == "down")
                    #expect(report.checks.first?.error != nil)
                }
            }
        }
    }

    @Test("liveness answers without touching dependencies")
    func liveness() async throws {
        try await TestStack.withClient(try TestStack.unreachableURL()) { client in
            try await app(checks: [PostgresCheck(client: client)]).test(.router) { http in
                try await http.execute(uri: "/health", method: .get) { response in
                    #expect(response.status == .ok)
                    #expect(String(buffer: response.body) == #"{"service":"test","status":"ok"}"#)
                }
            }
        }
    }

    @Test("/metrics exposes RED metrics per route in Prometheus text format")
    func metrics() async throws {
        try await app(checks: []).test(.router) { http in
            try await http.execute(uri: "/health", method: .get) { _ in }
            try await http.execute(uri: "/does-not-exist", method: .get) { _ in }
            try await http.execute(uri: "/metrics", method: .get) { response in
                #expect(response.status == .ok)
                #expect(response.headers[.contentType]?.hasPrefix("text/plain; version=0.0.4") == true)
                let text = String(buffer: response.body)
                #expect(text.contains(#"http_server_request_duration_count{http_route="/health",http_request_method="GET",http_response_status_code="200"}"#))
                #expect(text.contains(#"http_response_status_code="404""#))
            }
        }
    }
}
