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
        // The child gets no other descriptor of this process. Inherited, a test's sockets lived
        // on in long-lived children (a private stack's daemons, a load generator): a relay's
        // closed Postgres connection then stayed open server-side, and its leader lock held,
        // until the child exited (ADR 0005).
        markDescriptorsCloseOnExec()
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

    /// Sets close-on-exec on every descriptor above standard error (NIO opens sockets without
    /// it; `posix_spawn_file_actions_addclosefrom_np` is not visible to Swift here). A
    /// descriptor opened by another thread between this and the spawn can still slip through.
    static func markDescriptorsCloseOnExec() {
        #if os(Linux)
        guard let directory = opendir("/proc/self/fd") else { return }
        defer { closedir(directory) }
        let own = dirfd(directory)
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            guard let descriptor = Int32(name), descriptor > 2, descriptor != own else { continue }
            let flags = fcntl(descriptor, F_GETFD)
            if flags >= 0, flags & FD_CLOEXEC == 0 { _ = fcntl(descriptor, F_SETFD, flags | FD_CLOEXEC) }
        }
        #endif
    }
}
