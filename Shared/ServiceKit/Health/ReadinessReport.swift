/// The body of `GET /health/ready`.
public struct ReadinessReport: Sendable, Codable, Equatable {
    /// `ready` when every dependency is up, otherwise `not_ready`.
    public var status: String
    /// The service that answered.
    public var service: String
    /// One entry per dependency, in the order the service declared them.
    public var checks: [Check]

    /// The outcome of one dependency probe.
    public struct Check: Sendable, Codable, Equatable {
        /// Dependency name, for example `postgres`.
        public var name: String
        /// `up` or `down`.
        public var status: String
        /// How long the probe took, in milliseconds.
        public var latencyMs: Double
        /// Why the dependency is down (a short, operator-facing reason).
        public var error: String?

        enum CodingKeys: String, CodingKey {
            case name, status, error
            case latencyMs = "latency_ms"
        }
    }

    /// Whether every check is up.
    public var isReady: Bool { checks.allSatisfy { $0.status == "up" } }
}
