import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Parts of the local stack started just for one test (in a temporary directory, on free
/// ports, by the project's own `deploy/local/stack.sh`), so that a test may stop, freeze or
/// restart them without disturbing the shared stack other tests use.
public struct PrivateStack: Sendable {
    /// The stack's directory (`stack.env`, `pids/`, `logs/`).
    public let directory: String
    private let script: String

    /// Starts `parts` (any of `postgres`, `redis`, `kafka`).
    public static func start(_ parts: String...) async throws -> PrivateStack {
        let root = try StackEnvironment.value("ORDERFLOW_ROOT")
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("of-private-\(UUID().uuidString.prefix(8))").path
        let stack = PrivateStack(directory: directory, script: "\(root)/deploy/local/stack.sh")
        try await stack.run(["start"] + parts)
        return stack
    }

    /// Starts `parts` again (reusing their recorded ports).
    public func restart(_ parts: String...) async throws {
        try await run(["start"] + parts)
    }

    /// Stops `parts`, or everything when none are given.
    public func stop(_ parts: String...) async throws {
        try await run(["stop"] + parts)
    }

    /// Stops everything and removes the directory; use on every exit path.
    public func tearDown() async {
        try? await run(["stop"])
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// A value from the stack's `stack.env`, for example `ORDERFLOW_REDIS_URL`.
    public func value(_ name: String) throws -> String {
        let text = try String(contentsOfFile: "\(directory)/stack.env", encoding: .utf8)
        for line in text.split(separator: "\n") where line.hasPrefix("\(name)=") {
            return String(line.dropFirst(name.count + 1))
        }
        throw Missing(name: name)
    }

    /// The pid recorded for `part` (`redis`, `tansu`).
    public func pid(_ part: String) throws -> Int32 {
        let text = try String(contentsOfFile: "\(directory)/pids/\(part).pid", encoding: .utf8)
        guard let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) else { throw Missing(name: "\(part).pid") }
        return pid
    }

    /// Freezes `part` (`redis`, `tansu`) with SIGSTOP and, on Linux, waits until the kernel
    /// reports the process stopped, so that what the test does next meets a frozen server.
    /// Thaw it with SIGCONT to ``pid(_:)``.
    public func freeze(_ part: String) async throws {
        let pid = try pid(part)
        kill(pid, SIGSTOP)
        #if os(Linux)
        try await Poll.until("\(part) (pid \(pid)) stopped", deadline: .seconds(30)) { Self.state(of: pid) == "T" }
        #endif
    }

    /// The scheduler state letter of `pid` from `/proc/<pid>/stat` (`R`, `S`, `T`, …), or nil.
    public static func state(of pid: Int32) -> String? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return nil }
        return stat[stat.index(after: close)...].split(separator: " ").first.map(String.init)
    }

    /// Runs `body`, tearing the stack down afterwards whether it succeeded or threw.
    public func use<T: Sendable>(_ body: (PrivateStack) async throws -> T) async throws -> T {
        do {
            let result = try await body(self)
            await tearDown()
            return result
        } catch {
            await tearDown()
            throw error
        }
    }

    /// A setting missing from `stack.env`.
    public struct Missing: Error, CustomStringConvertible {
        public let name: String
        public var description: String { "\(name) not found in the private stack" }
    }

    private func run(_ arguments: [String]) async throws {
        try await Script.run(["bash", script] + [arguments[0], directory] + arguments.dropFirst())
    }
}
