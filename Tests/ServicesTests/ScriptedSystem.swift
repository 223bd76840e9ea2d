import Foundation
import TestSupport
import Testing

/// A system `deploy/local/services.sh` runs in a directory of its own (pids, logs, services.env), as `make run` does.
struct ScriptedSystem {
    let script: String
    let directory: String

    /// A command that exited non-zero, with what it printed.
    struct Failed: Error, CustomStringConvertible {
        let failure: Script.Failed
        let output: String
        var description: String { "\(failure): \(output)" }
    }

    /// Runs a command; its output goes to a file (`output`, else a new one in the directory)
    /// whose text a failure carries.
    func run(_ arguments: [String], deadline: Duration = .seconds(30), output: String? = nil) async throws {
        let output = output ?? "\(directory)/script-\(UUID().uuidString.prefix(8)).out"
        do {
            try await Script.run(arguments, deadline: deadline, outputFile: output, errorsToOutput: true)
        } catch let failure as Script.Failed {
            throw Failed(failure: failure, output: (try? String(contentsOfFile: output, encoding: .utf8)) ?? "")
        }
    }

    func pid(_ service: String) throws -> Int32 {
        let text = try String(contentsOfFile: "\(directory)/pids/\(service).pid", encoding: .utf8)
        return try #require(Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)))
    }

    func port(_ service: String) throws -> Int {
        let urls = try String(contentsOfFile: "\(directory)/services.env", encoding: .utf8)
        return try #require(urls.firstMatch(of: try Regex("\(service)_URL=http://127\\.0\\.0\\.1:(\\d+)")).flatMap { Int(String($0.output[1].substring ?? "")) })
    }

    func logCount(_ service: String, _ text: String) -> Int {
        ((try? String(contentsOfFile: "\(directory)/logs/\(service).log", encoding: .utf8)) ?? "").linesContaining(text)
    }

    func waitForPartitions(_ services: [String]) async throws {
        for service in services {
            try await Poll.until("\(service) gets partitions", deadline: .seconds(90)) { logCount(service, "kafka partitions assigned") > 0 }
        }
    }
}
