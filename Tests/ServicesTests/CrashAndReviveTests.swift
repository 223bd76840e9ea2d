import Foundation
import TestSupport
import Testing

extension LiveServices {
    /// `make crash` and `make revive` (`deploy/local/services.sh crash|revive`), on all five
    /// services started by the same script `make run` uses, against the test stack.
    @Suite("make crash / make revive")
    struct CrashAndReviveTests {
        @Test("crashed services start again on their own ports with the settings they had; running ones are left alone")
        func crashThenRevive() async throws {
            let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
            let binaries = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_BIN_DIR"], "ORDERFLOW_BIN_DIR is not set")
            // Inside the test stack's directory: `make test` stops what is left there if the test is cut short.
            let stack = try StackEnvironment.value("ORDERFLOW_STACK_DIR")
            let system = ScriptedSystem(script: "\(root)/deploy/local/services.sh", directory: "\(stack)/revive-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(atPath: system.directory, withIntermediateDirectories: true)
            try FileManager.default.copyItem(atPath: "\(stack)/stack.env", toPath: "\(system.directory)/stack.env")
            let ports = try ["GATEWAY", "USERS", "ORDERS", "PAYMENTS", "NOTIFICATIONS"].map { "ORDERFLOW_\($0)_PORT=\(try FreePort.reserve())" }
            do {
                // A setting given to `make run` only; the revived gateway must still have it.
                try await system.run(["/usr/bin/env", "RATE_LIMIT_READ_BURST=77"] + ports + [system.script, "start", system.directory, binaries],
                                     deadline: .seconds(180))
                try await system.waitForPartitions(["users", "orders", "payments", "notifications"])  // ADR 0006: Tansu's JoinGroup quirk
                let gateway = LoopbackEndpoint(port: try system.port("GATEWAY")), payments = LoopbackEndpoint(port: try system.port("PAYMENTS"))
                let (crashed, users) = (try system.pid("payments"), try system.pid("users"))
                let crashedGateway = try system.pid("gateway")

                try await system.run([system.script, "crash", system.directory, "payments"])
                try await system.run([system.script, "crash", system.directory, "gateway"])
                #expect(!Self.running(crashed) && !Self.running(crashedGateway), "still running after make crash")
                #expect((try? await payments.request("GET", "/health/ready")) == nil, "payments still answers after make crash")
                await #expect(throws: ScriptedSystem.Failed.self, "naming no service is refused") {
                    try await system.run([system.script, "crash", system.directory, "nonsense"])
                }

                let assigned = system.logCount("payments", "kafka partitions assigned")
                try await system.run([system.script, "revive", system.directory, binaries], deadline: .seconds(120))
                let revived = try system.pid("payments")
                #expect(revived != crashed && Self.running(revived), "payments runs again under a new pid")
                #expect(try system.pid("gateway") != crashedGateway && Self.running(try system.pid("gateway")), "the gateway runs again")
                #expect(try system.pid("users") == users, "a running service is left alone")
                try await Poll.until("the revived payments gets partitions", deadline: .seconds(90)) {
                    system.logCount("payments", "kafka partitions assigned") > assigned
                }

                // Through the revived gateway, on its old port: its settings, the JWKS and the upstreams are the ones it had.
                let products = try? await gateway.request("GET", "/api/v1/products")
                #expect(products?.status == 200 && products?.header("RateLimit-Limit") == "77",
                        "the revived gateway's read limit (RATE_LIMIT_READ_BURST=77 given to start only): \(String(describing: products))")
                let token = try await gateway.login(email: try StackEnvironment.value("ORDERFLOW_ADMIN_EMAIL"),
                                                    password: try StackEnvironment.value("ORDERFLOW_ADMIN_PASSWORD")).access
                let faults = try? await gateway.request("GET", "/api/v1/payments/faults", headers: ["Authorization": "Bearer \(token)"])
                #expect(faults?.status == 200, "an admin's read through the revived gateway to the revived payments: \(String(describing: faults))")

                try await system.run([system.script, "revive", system.directory, binaries], deadline: .seconds(60))  // nothing to do
                #expect(try system.pid("payments") == revived)
                try await Self.checkSystemLock(of: system, binaries: binaries)
                try await system.run([system.script, "stop", system.directory], deadline: .seconds(120))
                await #expect(throws: ScriptedSystem.Failed.self, "a stopped system is not revived") {
                    try await system.run([system.script, "revive", system.directory, binaries])
                }
            } catch {
                try? await system.run([system.script, "stop", system.directory], deadline: .seconds(120))
                throw error
            }
            try? FileManager.default.removeItem(atPath: system.directory)
        }

        /// services.sh's `pids/lock`: no service it started holds it (they start with its descriptor
        /// closed, else every later stop or revive would wait for them forever), and a revive waits
        /// while another script holds it — what keeps a revive and a stop from interleaving.
        static func checkSystemLock(of system: ScriptedSystem, binaries: String) async throws {
            let lock = "\(system.directory)/pids/lock"
            try await system.run(["flock", "--nonblock", lock, "true"])  // exits 1 if anyone holds it
            // Close-on-exec: a revive that inherited this descriptor would hold the lock itself.
            let held = open(lock, O_WRONLY | O_CREAT | O_CLOEXEC, 0o644)
            try #require(held >= 0 && flock(held, LOCK_EX) == 0, "the test takes the lock")
            var releasedLock = false
            defer { if !releasedLock { close(held) } }
            let output = "\(system.directory)/revive-behind-lock.out"
            let said: @Sendable (String) -> Bool = { text in ((try? String(contentsOfFile: output, encoding: .utf8)) ?? "").contains(text) }
            async let revive: Void = system.run([system.script, "revive", system.directory, binaries], deadline: .seconds(60), output: output)
            try await Poll.until("the revive says it waits for the lock", deadline: .seconds(30)) {
                said("waiting for another services.sh")
            }
            #expect(!said("nothing to revive"), "the revive went on while the lock was held")
            close(held)
            releasedLock = true
            try await revive
            #expect(said("nothing to revive"), "the revive finished once the lock was free")
        }

        /// Whether `pid` runs: a zombie (exited, not yet reaped by whatever adopted the detached
        /// service) does not.
        static func running(_ pid: Int32) -> Bool {
            guard kill(pid, 0) == 0 else { return false }
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8) else { return true }
            return stat.split(separator: ")").last?.trimmingCharacters(in: .whitespaces).first != "Z"
        }
    }
}
