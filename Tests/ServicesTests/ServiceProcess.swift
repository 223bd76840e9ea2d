import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import TestSupport
import Testing

/// One of the built executables, started as a real process for a test.
final class ServiceProcess: @unchecked Sendable {
    // @unchecked: `process` and the pipes are only touched from the test that owns this value.
    let name: String
    let port: Int
    private let process = Process()
    /// Standard error and output go to files, not pipes: a pipe's write end can leak into other
    /// children spawned concurrently and keep a reader waiting for an EOF that never comes.
    private let errorFile: URL
    private let outputFile: URL

    /// The directory of built products (`swift build --show-bin-path`), from `make test`.
    static func binary(_ name: String) throws -> URL {
        let directory = try #require(
            ProcessInfo.processInfo.environment["ORDERFLOW_BIN_DIR"],
            "ORDERFLOW_BIN_DIR is not set: run the tests with `make test`"
        )
        return URL(fileURLWithPath: directory).appendingPathComponent(name)
    }

    /// Starts `name` with exactly `environment` (plus PATH and library paths) on a free port.
    convenience init(_ name: String, environment: [String: String]) throws {
        // A restarted service may keep its old port (the gateway in front of it knows only that one).
        let port = try environment["HTTP_PORT"].flatMap { Int($0) } ?? FreePort.reserve()
        var env = environment
        env["HTTP_PORT"] = env["HTTP_PORT"] ?? String(port)
        env["LOG_LEVEL"] = env["LOG_LEVEL"] ?? "warning"
        try self.init(name, executable: try Self.binary(name), arguments: [], port: port, environment: env)
    }

    /// Starts `executable` with `arguments` and exactly `environment` (plus PATH and library
    /// paths), for a process that serves HTTP on `port` (a script, for instance).
    init(_ name: String, executable: URL, arguments: [String], port: Int, environment: [String: String]) throws {
        self.name = name
        self.port = port
        process.executableURL = executable
        process.arguments = arguments
        var env = environment
        let inherited = ProcessInfo.processInfo.environment
        for key in ["PATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"] { env[key] = env[key] ?? inherited[key] }
        process.environment = env
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("of-\(name)-\(UUID().uuidString.prefix(8))")
        errorFile = scratch.appendingPathExtension("stderr")
        outputFile = scratch.appendingPathExtension("stdout")
        _ = FileManager.default.createFile(atPath: errorFile.path, contents: nil)
        _ = FileManager.default.createFile(atPath: outputFile.path, contents: nil)
        process.standardError = try FileHandle(forWritingTo: errorFile)
        process.standardOutput = try FileHandle(forWritingTo: outputFile)
        try process.run()
    }

    var baseURL: URL { URL(string: "http://127.0.0.1:\(port)")! }
    var isRunning: Bool { process.isRunning }

    /// Waits (polling, up to `deadline`) for the process to exit; returns its status and standard error.
    func waitForExit(deadline: Duration = .seconds(30)) async throws -> (status: Int32, stderr: String) {
        try await Poll.until("\(name) exits", deadline: deadline) { !self.process.isRunning }
        let stderr = (try? String(contentsOf: errorFile, encoding: .utf8)) ?? ""
        return (process.terminationStatus, stderr)
    }

    /// Sends SIGTERM and waits for the exit status.
    func terminate() async throws -> Int32 {
        beginTermination()
        return try await waitForExit().status
    }

    /// Sends SIGTERM without waiting: graceful shutdown begins (``waitForExit(deadline:)`` for its end).
    func beginTermination() {
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }

    /// Stops the process (SIGSTOP) until ``thaw()``: it keeps its sockets and answers nothing.
    func freeze() {
        if process.isRunning { kill(process.processIdentifier, SIGSTOP) }
    }

    /// Lets a process stopped by ``freeze()`` go on (SIGCONT).
    func thaw() {
        if process.isRunning { kill(process.processIdentifier, SIGCONT) }
    }

    /// Sends SIGKILL (no shutdown at all, as a crash) and waits for the exit.
    func crash() async throws {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        _ = try await waitForExit()
    }

    /// Kills the process if a test left it running.
    deinit {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        try? FileManager.default.removeItem(at: errorFile)
        try? FileManager.default.removeItem(at: outputFile)
    }

    /// An HTTP exchange's outcome.
    typealias Reply = LoopbackEndpoint.Reply

    /// Where the process serves HTTP.
    var endpoint: LoopbackEndpoint { LoopbackEndpoint(port: port) }

    /// Sends `method path` to the process (``LoopbackEndpoint/request(_:_:headers:json:form:)``).
    func request(_ method: String, _ path: String, headers: [String: String] = [:], json: String? = nil,
                 form: [String: String]? = nil) async throws -> Reply {
        try await endpoint.request(method, path, headers: headers, json: json, form: form)
    }

    /// Waits until a log line contains `text` (the process must log at a level that shows it).
    func waitForLog(_ text: String, deadline: Duration = .seconds(60)) async throws {
        try await Poll.until("\(name) logs \"\(text)\"", deadline: deadline) { !self.isRunning || self.log.contains(text) }
        try #require(log.contains(text), "\(name) exited before logging \"\(text)\":\n\(log.suffix(2_000))")
    }

    /// How many log lines so far contain `text`.
    func logCount(_ text: String) -> Int {
        log.linesContaining(text)
    }

    /// Standard output and error so far (the JSON log lines).
    var log: String {
        ((try? String(contentsOf: outputFile, encoding: .utf8)) ?? "") + ((try? String(contentsOf: errorFile, encoding: .utf8)) ?? "")
    }

    /// GET `path`; nil when the connection fails.
    func get(_ path: String) async -> (status: Int, body: String)? {
        var request = URLRequest(url: baseURL.appendingPathComponent(path))
        request.timeoutInterval = 10
        guard let (data, response) = try? await URLSession.shared.data(for: request),
              let http = response as? HTTPURLResponse
        else { return nil }
        return (http.statusCode, String(decoding: data, as: UTF8.self))
    }
}

extension String {
    /// How many lines contain `text` (a process's log, say).
    func linesContaining(_ text: String) -> Int {
        split(separator: "\n").filter { $0.contains(text) }.count
    }
}
