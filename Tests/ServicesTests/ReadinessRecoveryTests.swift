import Foundation
import TestSupport
import Testing

/// Kill Postgres under a running service: `/health/ready` turns 503 naming postgres; start it
/// again and the same process recovers without a restart. Uses a Postgres of its own (started by
/// the project's stack script in a private directory) so other tests keep theirs — and a broker
/// of its own, so its orders consumer never joins the shared group the saga tests rely on.
@Suite("Readiness follows Postgres going away and coming back")
struct ReadinessRecoveryTests {
    @Test("503 naming postgres while it is down; recovers when it is back")
    func recovers() async throws {
        try await PrivateStack.start("postgres", "kafka").use { stack in
            let service = try ServiceProcess("orders", environment: [
                "DATABASE_URL": try stack.value("ORDERFLOW_ORDERS_DATABASE_URL"),
                "KAFKA_BROKERS": try stack.value("ORDERFLOW_KAFKA_BROKERS"),
                "JWT_JWKS_URL": "http://127.0.0.1:9/.well-known/jwks.json",
            ])
            try await Poll.until("orders is ready") { await service.get("health/ready")?.status == 200 }

            try await stack.stop("postgres")
            try await Poll.until("readiness reports postgres down") {
                guard let response = await service.get("health/ready"), response.status == 503 else { return false }
                return response.body.contains(#""name":"postgres","status":"down""#)
            }
            #expect(await service.get("health")?.status == 200, "liveness must not depend on Postgres")

            try await stack.restart("postgres")
            try await Poll.until("readiness recovers without a restart") { await service.get("health/ready")?.status == 200 }
            #expect(service.isRunning)
            #expect(try await service.terminate() == 0)
        }
    }
}
