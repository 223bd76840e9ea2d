import Foundation
import TestSupport
import Testing

/// Starts gateway processes in front of whichever services a test runs.
enum GatewayProcess {
    /// Limits so high that the limiter runs on every request but never refuses one.
    static let unlimited = [
        "RATE_LIMIT_READ_BURST": "1000000", "RATE_LIMIT_READ_PER_SECOND": "1000000",
        "RATE_LIMIT_WRITE_BURST": "1000000", "RATE_LIMIT_WRITE_PER_SECOND": "1000000",
    ]

    /// A gateway whose upstreams are the given processes or ports (absent ones point at a
    /// closed port), verifying tokens against `users`' JWKS; waits until it is live (its
    /// readiness depends on the upstreams, which a test may keep down on purpose).
    static func start(
        users: ServiceProcess, orders: ServiceProcess? = nil, payments: ServiceProcess? = nil, notifications: ServiceProcess? = nil,
        ports: [String: Int] = [:], environment extra: [String: String] = [:]
    ) async throws -> ServiceProcess {
        var environment = try StackEnvironment.serviceEnvironment("gateway", jwksURL: "http://127.0.0.1:\(users.port)/.well-known/jwks.json")
        let closed = try FreePort.reserve()
        let processes = ["users": users, "orders": orders, "payments": payments, "notifications": notifications]
        for name in ["users", "orders", "payments", "notifications"] {
            let port = ports[name] ?? processes[name]??.port ?? closed
            environment["GATEWAY_\(name.uppercased())_URL"] = "http://127.0.0.1:\(port)"
        }
        environment.merge(unlimited) { $1 }
        environment.merge(extra) { $1 }
        let gateway = try ServiceProcess("gateway", environment: environment)
        try await Poll.until("the gateway is live") {
            guard gateway.isRunning else { return true }
            return await gateway.get("health")?.status == 200
        }
        try #require(gateway.isRunning, "the gateway exited during startup:\n\(gateway.log.suffix(2_000))")
        return gateway
    }
}

extension ServiceProcess {
    /// The sum of every sample on `/metrics` whose line starts with `prefix` and contains each
    /// of `labels` (0 when none does).
    func metric(_ prefix: String, labels: [String] = []) async throws -> Double {
        try await metricLines(prefix, labels: labels).compactMap { Double($0.split(separator: " ").last ?? "") }.reduce(0, +)
    }

    /// The lines of `/metrics` that start with `prefix` and contain each of `labels`.
    func metricLines(_ prefix: String, labels: [String] = []) async throws -> [Substring] {
        let lines = try #require(await get("metrics"), "no /metrics answer").body.split(separator: "\n")
        return lines.filter { line in line.hasPrefix(prefix) && labels.allSatisfy { line.contains($0) } }
    }

    /// GETs in progress (`http_server_active_requests`), the scrape itself included.
    func activeGETs() async throws -> Double {
        try await metric("http_server_active_requests{", labels: [#"http_request_method="GET""#])
    }
}
