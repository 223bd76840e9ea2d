#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs a project script to completion without blocking the cooperative pool.
///
/// Uses `posix_spawn` + `waitpid(WNOHANG)` rather than Foundation's `Process`: the stack script
/// leaves daemons (Postgres) behind, and they would inherit the descriptor `Process` watches for
/// the child's exit, so `Process` would never see the script finish.
public enum Script {
    public struct Failed: Error, CustomStringConvertible {
        let command: [String]
        let status: Int32
        public var description: String { "\(command.joined(separator: " ")) exited with \(status)" }
    }

    /// Runs `arguments` to completion; standard output goes to `outputFile` when given, and so
    /// does standard error when `errorsToOutput` (otherwise it is discarded).
    public static func run(
        _ arguments: [String], deadline: Duration = .seconds(120), outputFile: String? = nil, errorsToOutput: Bool = false
    ) async throws {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 1, outputFile ?? "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        if errorsToOutput {
            posix_spawn_file_actions_adddup2(&actions, 1, 2)
        } else {
            posix_spawn_file_actions_addopen(&actions, 2, "/dev/null", O_WRONLY, 0)
        }
        let argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) } + [nil]
        defer { argv.forEach { free($0) } }
        var pid = pid_t()
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw Failed(command: arguments, status: -1) }
        var status: Int32 = 0
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while waitpid(pid, &status, WNOHANG) != pid {
            do {
                guard clock.now < end else { throw Poll.TimedOut(what: "\(arguments.joined(separator: " ")) finishes") }
                try await Task.sleep(for: .milliseconds(100))
            } catch {
                // Timed out, or the waiting task was cancelled: the child goes too, and is reaped.
                kill(pid, SIGKILL)
                _ = waitpid(pid, &status, 0)
                throw error
            }
        }
        let exitCode = (status >> 8) & 0xff
        guard status & 0x7f == 0, exitCode == 0 else { throw Failed(command: arguments, status: exitCode) }
    }
}
