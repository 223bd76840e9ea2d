import Logging

/// Runs every ``DependencyCheck`` concurrently, each bounded by a timeout, and reports the results.
public struct ReadinessProbe: Sendable {
    /// The checks, in report order.
    public let checks: [any DependencyCheck]
    /// How long one check may take before it counts as down.
    public let timeout: Duration
    private let service: String
    private let logger: Logger

    /// Creates a probe for `service`.
    public init(service: String, checks: [any DependencyCheck], timeout: Duration = .seconds(2), logger: Logger) {
        self.service = service
        self.checks = checks
        self.timeout = timeout
        self.logger = logger
    }

    /// Probes every dependency once.
    public func run() async -> ReadinessReport {
        let results = await withTaskGroup(of: (Int, ReadinessReport.Check).self) { group in
            for (index, dependency) in checks.enumerated() {
                group.addTask { (index, await probe(dependency)) }
            }
            var collected: [(Int, ReadinessReport.Check)] = []
            for await result in group { collected.append(result) }
            return collected.sorted { $0.0 < $1.0 }.map(\.1)
        }
        let ready = results.allSatisfy { $0.status == "up" }
        return ReadinessReport(status: ready ? "ready" : "not_ready", service: service, checks: results)
    }

    private func probe(_ dependency: any DependencyCheck) async -> ReadinessReport.Check {
        let clock = ContinuousClock()
        let start = clock.now
        do {
            try await withTimeout(timeout) { try await dependency.check() }
            return .init(name: dependency.name, status: "up", latencyMs: Self.rounded(clock.now - start), error: nil)
        } catch let timeout as TimeoutError {
            logger.warning("dependency down", metadata: ["dependency": "\(dependency.name)", "error": "\(timeout)"])
            return .init(name: dependency.name, status: "down", latencyMs: Self.rounded(clock.now - start), error: timeout.description)
        } catch {
            logger.warning("dependency down", metadata: ["dependency": "\(dependency.name)", "error": "\(String(reflecting: error))"])
            let reason = (error as? any DependencyFailure)?.reason ?? "unavailable"
            return .init(name: dependency.name, status: "down", latencyMs: Self.rounded(clock.now - start), error: reason)
        }
    }

    private static func rounded(_ duration: Duration) -> Double {
        (duration.fractionalMilliseconds * 100).rounded() / 100
    }
}

/// An error a ``DependencyCheck`` throws with a reason that is safe to show in the readiness report.
public protocol DependencyFailure: Error {
    /// A short reason such as `connection refused`.
    var reason: String { get }
}
