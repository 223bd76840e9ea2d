#if os(Linux)
import Foundation
import Testing
import TestSupport

/// `deploy/loadtest/fixed_rate.c`, the open-loop generator of `make bench-gateway`, compiled with
/// `cc` and run against a scripted loopback upstream: what it prints must match what was served.
@Suite struct LoadGeneratorTests {
    @Test func answersAreCountedByTheirStatus() async throws {
        let generator = try await Self.compiledGenerator()
        let upstream = try HeldStreamUpstream(path: "/stream")
        defer { upstream.close() }
        upstream.release()  // every answer on /stream: 200, chunked in two parts and a trailer-less end

        let streamed = try await Self.run(generator, "http://127.0.0.1:\(upstream.port)/stream", rate: 40, seconds: 1, connections: 4)
        #expect(streamed["sent"] == "40")
        #expect(streamed["completed"] == "40")
        #expect(streamed["non2xx"] == "0")
        #expect(streamed["errors"] == "0")

        // Any other path: 404 with an empty Content-Length body.
        let missing = try await Self.run(generator, "http://127.0.0.1:\(upstream.port)/missing", rate: 40, seconds: 1, connections: 4)
        #expect(missing["completed"] == "40")
        #expect(missing["non2xx"] == "40")
        #expect(missing["errors"] == "0")
    }

    /// Answers that never end: the first request on each connection waits for ever, every later
    /// one waits in the backlog for a free connection (open loop: the schedule does not stall),
    /// and all of them count as errors once the drain time is over.
    @Test func heldAnswersLeaveTheRestInTheBacklog() async throws {
        let generator = try await Self.compiledGenerator()
        let upstream = try HeldStreamUpstream(path: "/stream")
        defer {
            upstream.release()
            upstream.close()
        }
        let held = try await Self.run(generator, "http://127.0.0.1:\(upstream.port)/stream", rate: 10, seconds: 1, connections: 2, drainSeconds: 1)
        #expect(held["sent"] == "2")
        #expect(held["completed"] == "0")
        #expect(held["max_backlog"] == "8")
        #expect(held["errors"] == "10")
    }

    /// The generator, compiled once per test into a directory of its own.
    static func compiledGenerator() async throws -> String {
        let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-fixed-rate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let binary = directory + "/fixed_rate"
        try await Script.run(["cc", "-O2", "-o", binary, root + "/deploy/loadtest/fixed_rate.c"])
        return binary
    }

    /// Runs the generator and returns the fields of its `RESULT` line.
    static func run(
        _ generator: String, _ url: String, rate: Int, seconds: Int, connections: Int, drainSeconds: Int = 10
    ) async throws -> [String: String] {
        let output = (generator as NSString).deletingLastPathComponent + "/result-\(UUID().uuidString).txt"
        try await Script.run(
            [generator, url, "--rate", "\(rate)", "--seconds", "\(seconds)", "--connections", "\(connections)",
             "--drain-seconds", "\(drainSeconds)", "--header", "Authorization: Bearer test"],
            deadline: .seconds(60), outputFile: output
        )
        let text = try String(contentsOfFile: output, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }), "no RESULT line in: \(text)")
        return Dictionary(line.split(separator: " ").dropFirst().compactMap { field in
            let parts = field.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { _, last in last })
    }
}
#endif
