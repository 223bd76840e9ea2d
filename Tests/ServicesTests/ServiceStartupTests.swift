import Foundation
import TestSupport
import Testing

/// Each executable starts against the real stack, applies its migrations, reports its
/// dependencies up, and exits 0 on SIGTERM.
extension LiveServices {
@Suite("Services start, report ready and stop cleanly")
struct ServiceStartupTests {
    static let dependencies: [String: [String]] = [
        "users": ["postgres", "kafka"],
        "orders": ["postgres", "kafka"],
        "payments": ["postgres", "kafka"],
        "notifications": ["postgres", "kafka"],
    ]

    /// (The gateway's readiness needs its upstreams: `GatewayTests` covers it.)
    @Test("ready with every dependency up, then a clean SIGTERM exit", arguments: ["users", "orders", "payments", "notifications"])
    func startsAndStops(_ service: String) async throws {
        var environment = try StackEnvironment.serviceEnvironment(service)
        environment["LOG_LEVEL"] = "info"
        let process = try ServiceProcess(service, environment: environment)
        try await Poll.until("\(service) is ready") {
            guard process.isRunning else { return true }
            return await process.get("health/ready")?.status == 200
        }
        #expect(process.isRunning, "\(service) exited during startup")
        let ready = try #require(await process.get("health/ready"))
        let report = try #require(try JSONSerialization.jsonObject(with: Data(ready.body.utf8)) as? [String: Any])
        let checks = try #require(report["checks"] as? [[String: Any]])
        #expect(checks.compactMap { $0["name"] as? String } == Self.dependencies[service])
        #expect(checks.allSatisfy { $0["status"] as? String == "up" && $0["latency_ms"] is Double })
        #expect(await process.get("metrics")?.body.contains("http_server_request_duration") == true)
        // Leaving a consumer group mid-join stalls it on Tansu: stop only once the join is done.
        try await process.waitForLog("kafka partitions assigned")
        #expect(try await process.terminate() == 0)
    }

    @Test("a nonsense setting fails fast with one human line naming the variable", arguments: [
        ("users", "DATABASE_URL", "nonsense"), ("orders", "DATABASE_URL", "nonsense"),
        ("payments", "KAFKA_BROKERS", "no-port"), ("notifications", "HTTP_PORT", "eighty"),
        ("gateway", "REDIS_URL", "nonsense"), ("gateway", "GATEWAY_ORDERS_URL", "ftp://127.0.0.1:1"),
        ("gateway", "RATE_LIMIT_READ_BURST", "-3"), ("gateway", "GATEWAY_AUTH", "maybe"),
    ])
    func failsFast(_ service: String, _ variable: String, _ value: String) async throws {
        var environment = try StackEnvironment.serviceEnvironment(service)
        environment[variable] = value
        let process = try ServiceProcess(service, environment: environment)
        let (status, stderr) = try await process.waitForExit()
        #expect(status == 78)
        let lines = stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains(variable) == true)
        #expect(lines.first?.contains("\"\(value)\"") == true)
    }

    @Test("an unreachable database stops startup with a line naming DATABASE_URL")
    func unreachableDatabase() async throws {
        var environment = try StackEnvironment.serviceEnvironment("orders")
        environment["DATABASE_URL"] = "postgres://orders:x@127.0.0.1:\(try FreePort.reserve())/orderflow?sslmode=disable"
        environment["DATABASE_STARTUP_TIMEOUT_MS"] = "1500"
        let process = try ServiceProcess("orders", environment: environment)
        let (status, stderr) = try await process.waitForExit()
        #expect(status == 1)
        #expect(stderr.contains("could not reach Postgres"))
        #expect(stderr.contains("DATABASE_URL"))
    }
}
}
