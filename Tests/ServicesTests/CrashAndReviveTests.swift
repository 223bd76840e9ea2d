import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

extension LiveServices {
    /// `make crash` and `make revive` (`deploy/local/services.sh crash|revive`), on all five
    /// services started by the same script `make run` uses, against the test stack.
    @Suite("make crash / make revive")
    struct CrashAndReviveTests {
        @Test("a crashed service is started again on its own port; the running ones are left alone")
        func crashThenRevive() async throws {
            let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
            let binaries = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_BIN_DIR"], "ORDERFLOW_BIN_DIR is not set")
            let script = "\(root)/deploy/local/services.sh"
            // A system directory of its own (pids, logs, services.env) beside the test stack's.
            let system = "\(root)/.run/revive-\(UUID().uuidString.prefix(8))"
            try FileManager.default.createDirectory(atPath: system, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(try StackEnvironment.value("ORDERFLOW_STACK_DIR"))/stack.env", toPath: "\(system)/stack.env")
            let ports = try ["GATEWAY", "USERS", "ORDERS", "PAYMENTS", "NOTIFICATIONS"].map { "ORDERFLOW_\($0)_PORT=\(try FreePort.reserve())" }
            try await Script.run(["/usr/bin/env"] + ports + [script, "start", system, binaries], deadline: .seconds(180))
            do {
                func pid(_ service: String) throws -> Int32 {
                    try #require(Int32(try String(contentsOfFile: "\(system)/pids/\(service).pid", encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
                }
                let urls = try String(contentsOfFile: "\(system)/services.env", encoding: .utf8)
                let paymentsPort = try #require(urls.firstMatch(of: /PAYMENTS_URL=http:\/\/127\.0\.0\.1:(\d+)/).map { String($0.1) })
                let (crashed, users) = (try pid("payments"), try pid("users"))

                try await Script.run([script, "crash", system, "payments"], deadline: .seconds(30))
                #expect(!Self.running(crashed), "payments (pid \(crashed)) still runs after make crash")
                let down = await Self.ready(port: paymentsPort)
                #expect(!down, "payments still answers after make crash")
                await #expect(throws: Script.Failed.self, "naming no service is refused") {
                    try await Script.run([script, "crash", system, "nonsense"], deadline: .seconds(30))
                }

                try await Script.run([script, "revive", system, binaries], deadline: .seconds(120))
                let revived = try pid("payments")
                #expect(revived != crashed && Self.running(revived), "payments runs again under a new pid")
                let up = await Self.ready(port: paymentsPort)
                #expect(up, "payments is ready again on its own port \(paymentsPort)")
                #expect(try pid("users") == users, "a running service is left alone")

                try await Script.run([script, "revive", system, binaries], deadline: .seconds(60))  // nothing to do
                #expect(try pid("payments") == revived)
            } catch {
                try? await Script.run([script, "stop", system], deadline: .seconds(120))
                throw error
            }
            try await Script.run([script, "stop", system], deadline: .seconds(120))
            try? FileManager.default.removeItem(atPath: system)
        }

        /// Whether `pid` runs: a zombie (exited, not yet reaped by whatever adopted the detached
        /// service) does not.
        static func running(_ pid: Int32) -> Bool {
            guard kill(pid, 0) == 0 else { return false }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).first != "Z"
        }

        /// Whether something answers `/health/ready` with 200 on `port` now.
        static func ready(port: String) async -> Bool {
            var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/health/ready")!)
            request.timeoutInterval = 10
            guard let (_, response) = try? await URLSession.shared.data(for: request) else { return false }
            return (response as? HTTPURLResponse)?.statusCode == 200
        }
    }
}
