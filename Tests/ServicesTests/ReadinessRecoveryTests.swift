import Foundation
import TestSupport
import Testing

/// Kill Postgres under a running service: `/health/ready` turns 503 naming postgres; start it
/// again and the same process recovers without a restart. Uses a Postgres of its own (started by
/// the project's stack script in a private directory) so other tests keep theirs.
@Suite("Readiness follows Postgres going away and coming back")
struct ReadinessRecoveryTests {
    private func stack(_ arguments: String...) async throws {
        let root = try StackEnvironment.value("ORDERFLOW_ROOT")
        try await Script.run(["bash", "\(root)/deploy/local/stack.sh"] + arguments)
    }

    private func env(_ directory: String) throws -> [String: String] {
        let text = try String(contentsOfFile: "\(directory)/stack.env", encoding: .utf8)
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") where !line.hasPrefix("#") {
            guard let eq = line.firstIndex(of: "=") else { continue }
            values[String(line[..<eq])] = String(line[line.index(after: eq)...])
        }
        return values
    }

    @Test("503 naming postgres while it is down; recovers when it is back")
    func recovers() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("of-readiness-\(UUID().uuidString.prefix(8))").path
        try await stack("start", directory, "postgres")
        do {
            try await exercise(directory)
        } catch {
            try? await stack("stop", directory)
            throw error
        }
        try await stack("stop", directory)
        try? FileManager.default.removeItem(atPath: directory)
    }

    private func exercise(_ directory: String) async throws {
        let values = try env(directory)
        let service = try ServiceProcess("orders", environment: [
            "DATABASE_URL": try #require(values["ORDERFLOW_ORDERS_DATABASE_URL"]),
            "KAFKA_BROKERS": try StackEnvironment.value("ORDERFLOW_KAFKA_BROKERS"),
        ])
        try await Poll.until("orders is ready") { await service.get("health/ready")?.status == 200 }

        try await stack("stop", directory, "postgres")
        try await Poll.until("readiness reports postgres down") {
            guard let response = await service.get("health/ready"), response.status == 503 else { return false }
            return response.body.contains(#""name":"postgres","status":"down""#)
        }
        #expect(await service.get("health")?.status == 200, "liveness must not depend on Postgres")

        try await stack("start", directory, "postgres")
        try await Poll.until("readiness recovers without a restart") { await service.get("health/ready")?.status == 200 }
        #expect(service.isRunning)
        #expect(try await service.terminate() == 0)
    }
}
