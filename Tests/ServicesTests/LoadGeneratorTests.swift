#if os(Linux)
import Foundation
import Testing
import TestSupport

/// `deploy/loadtest/fixed_rate.c`, the open-loop generator of `make bench-gateway`, compiled with
/// `cc` and run against a scripted loopback upstream (``HeldStreamUpstream``): what it prints must
/// match what was served. Its Python twin, `fixed_rate.py`, takes the framing test too.
@Suite struct LoadGeneratorTests {
    @Test(arguments: [LoadGenerator.Kind.c, .python])
    func answersAreFramedAndCountedByTheirStatus(_ kind: LoadGenerator.Kind) async throws {
        let generator = try await LoadGenerator(kind)
        defer { generator.remove() }
        let upstream = try HeldStreamUpstream(path: "/stream")
        defer { upstream.close() }
        upstream.release()  // every answer on /stream: 200, chunked, in two parts
        let base = "http://127.0.0.1:\(upstream.port)"

        for path in ["/stream", HeldStreamUpstream.lengthPath, HeldStreamUpstream.closePath] {
            let result = try await generator.run(base + path, rate: 40, seconds: 1, connections: 4)
            #expect(result["sent"] == "40", "\(path)")
            #expect(result["completed"] == "40", "\(path)")
            #expect(result["non2xx"] == "0", "\(path)")
            #expect(result["errors"] == "0", "\(path): a connection the server closes takes no further request, and is replaced")
        }
        // One connection, closed after every answer, at a rate that keeps requests waiting for it:
        // each waits for the replacement, none is sent on the connection being closed.
        let reconnecting = try await generator.run(base + HeldStreamUpstream.closePath, rate: 200, seconds: 1, connections: 1)
        #expect(reconnecting["completed"] == "200")
        #expect(reconnecting["errors"] == "0")
        // Any other path: 404 with an empty Content-Length body.
        let missing = try await generator.run(base + "/missing", rate: 40, seconds: 1, connections: 4)
        #expect(missing["completed"] == "40")
        #expect(missing["non2xx"] == "40")
        #expect(missing["errors"] == "0")
    }

    /// Answers that never end: the first request on each connection waits for ever, every later
    /// one waits in the backlog for a free connection (open loop: the schedule does not stall),
    /// and all of them count as errors once the drain time is over.
    @Test func heldAnswersLeaveTheRestInTheBacklog() async throws {
        let held = try await Self.runOnHeldStream(connections: 2, drainSeconds: 1) { _ in }
        #expect(held["sent"] == "2")
        #expect(held["completed"] == "0")
        #expect(held["max_backlog"] == "8")
        #expect(held["errors"] == "10")
    }

    /// Latency runs to an answer's last byte: answers whose first part comes at once and whose
    /// end is held for half a second after the last request arrived take at least that long.
    @Test func latencyRunsToTheLastByte() async throws {
        let answered = try await Self.runOnHeldStream(connections: 20, drainSeconds: 60) { upstream in
            try await Self.release(upstream, after: .milliseconds(500), once: 10)
        }
        #expect(answered["completed"] == "10")
        #expect(answered["max_backlog"] == "0")
        let p50 = try #require(answered["p50_ms"].flatMap(Double.init))
        #expect(p50 >= 500, "each answer waited at least the 500 ms hold after its request was sent")
    }

    /// Latency runs from each request's scheduled time, not from when a free connection sent it:
    /// two connections, both held until 1.5 s after the second request arrived, so the eight
    /// requests due meanwhile wait in the backlog and are answered at once when released. Every
    /// answer comes at least 1.6 s after the start and request i was due at i × 0.1 s (i < 10),
    /// so every latency is at least 0.7 s.
    @Test func latencyRunsFromTheScheduledTime() async throws {
        let answered = try await Self.runOnHeldStream(connections: 2, drainSeconds: 60) { upstream in
            try await Self.release(upstream, after: .milliseconds(1_500), once: 2)
        }
        #expect(answered["completed"] == "10")
        #expect(answered["max_backlog"] == "8")
        let p50 = try #require(answered["p50_ms"].flatMap(Double.init))
        #expect(p50 >= 700, "the backlogged requests count their wait for a connection")
    }

    /// Ten requests in one second over `connections` to a stream held until released (by
    /// `meanwhile`, run beside the generator, or at the end); the generator's `RESULT`.
    private static func runOnHeldStream(
        connections: Int, drainSeconds: Int, meanwhile: @Sendable (HeldStreamUpstream) async throws -> Void
    ) async throws -> [String: String] {
        let generator = try await LoadGenerator(.c)
        defer { generator.remove() }
        let upstream = try HeldStreamUpstream(path: "/stream")
        defer {
            upstream.release()
            upstream.close()
        }
        async let result = generator.run(
            "http://127.0.0.1:\(upstream.port)/stream", rate: 10, seconds: 1, connections: connections, drainSeconds: drainSeconds
        )
        try await meanwhile(upstream)
        return try await result
    }

    /// Releases the held answers `hold` after `arrivals` requests have reached the upstream.
    private static func release(_ upstream: HeldStreamUpstream, after hold: Duration, once arrivals: Int) async throws {
        try await Poll.until("\(arrivals) requests reach the upstream") { upstream.heldRequests == arrivals }
        try await Task.sleep(for: hold)
        upstream.release()
    }
}

/// A generator ready to run, with a directory of its own for its binary and outputs.
struct LoadGenerator: Sendable {
    enum Kind: String, Sendable, CustomTestStringConvertible {
        case c, python
        var testDescription: String { rawValue }
    }

    let directory: String
    let command: [String]

    /// Compiles `fixed_rate.c` (for `.c`) or points at `fixed_rate.py`.
    init(_ kind: Kind) async throws {
        let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("orderflow-fixed-rate-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        self.directory = directory
        switch kind {
        case .python:
            command = ["python3", root + "/deploy/loadtest/fixed_rate.py"]
        case .c:
            command = [directory + "/fixed_rate"]
            let log = directory + "/cc.log"
            do {
                try await Script.run(["cc", "-O2", "-o", directory + "/fixed_rate", root + "/deploy/loadtest/fixed_rate.c"], outputFile: log, errorsToOutput: true)
            } catch {
                let output = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
                try? FileManager.default.removeItem(atPath: directory)
                throw Failure(description: "cc could not compile fixed_rate.c (\(error)): \(output)")
            }
        }
    }

    func remove() {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Runs the generator and returns the fields of its `RESULT` line.
    func run(_ url: String, rate: Int, seconds: Int, connections: Int, drainSeconds: Int = 10) async throws -> [String: String] {
        let output = directory + "/result-\(UUID().uuidString).txt"
        try await Script.run(
            command + [url, "--rate", "\(rate)", "--seconds", "\(seconds)", "--connections", "\(connections)",
                       "--drain-seconds", "\(drainSeconds)", "--header", "Authorization: Bearer test"],
            deadline: .seconds(120), outputFile: output, errorsToOutput: true
        )
        let text = try String(contentsOfFile: output, encoding: .utf8)
        let line = try #require(text.split(separator: "\n").last(where: { $0.hasPrefix("RESULT ") }), "no RESULT line in: \(text)")
        return Dictionary(line.split(separator: " ").dropFirst().compactMap { field in
            let parts = field.split(separator: "=", maxSplits: 1)
            return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
        }, uniquingKeysWith: { _, last in last })
    }

    struct Failure: Error, CustomStringConvertible {
        let description: String
    }
}
#endif
