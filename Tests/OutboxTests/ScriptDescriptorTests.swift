import Foundation
import TestSupport
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// `Script` children (a private stack's daemons, load generators) must not inherit the test
/// process's sockets: a relay's closed Postgres connection stayed open server-side, with its
/// leader lock, for as long as such a child lived (ADR 0005).
@Suite("Script children inherit no descriptors")
struct ScriptDescriptorTests {
    @Test("a socket the test process holds (opened without close-on-exec) is not among the child's descriptors")
    func noInheritedSocket() async throws {
        let held = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        try #require(held >= 0)
        defer { close(held) }
        let listing = FileManager.default.temporaryDirectory.appendingPathComponent("fds-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: listing) }
        try await Script.run(["ls", "-l", "/proc/self/fd"], outputFile: listing)
        let lines = try String(contentsOfFile: listing, encoding: .utf8).split(separator: "\n")
        #expect(lines.count >= 3, "ls listed its own descriptors: \(lines)")
        #expect(!lines.contains { $0.contains("socket:") }, "the child inherited sockets: \(lines.filter { $0.contains("socket:") })")
        let flags = fcntl(held, F_GETFD)
        #expect(flags >= 0 && flags & FD_CLOEXEC != 0, "the held socket is now close-on-exec")
    }
}
