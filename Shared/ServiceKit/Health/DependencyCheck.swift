/// Something a service needs to do its work (Postgres, Kafka, Redis), probed by `/health/ready`.
public protocol DependencyCheck: Sendable {
    /// The name shown in the readiness report, for example `postgres`.
    var name: String { get }
    /// Returns when the dependency answered; throws when it did not.
    func check() async throws
}
