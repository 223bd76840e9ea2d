@testable import Gateway
import Hummingbird
import HummingbirdCore
import HummingbirdTesting
import NIOPosix
import Testing

/// A real server (live sockets): with the pinned HTTP/1 channel, handlers run on an event loop
/// thread; with Hummingbird's own, on Swift's cooperative pool.
@Suite("Connections pinned to their event loops")
struct EventLoopPinnedChannelTests {
    /// Where the handler of `GET /where` ran: "loop" on a NIO event loop thread, else "pool".
    private func answers(server: HTTPServerBuilder) async throws -> [String] {
        let router = Router()
        router.get("where") { _, _ in
            // After a suspension too: the continuation must come back to the loop.
            try await Task.sleep(for: .milliseconds(1))
            return MultiThreadedEventLoopGroup.currentEventLoop == nil ? "pool" : "loop"
        }
        let app = Application(router: router, server: server)
        return try await app.test(.live) { client in
            var seen: [String] = []
            for _ in 0..<3 {
                let response = try await client.execute(uri: "/where", method: .get)
                #expect(response.status == .ok)
                seen.append(String(buffer: response.body))
            }
            return seen
        }
    }

    @Test("pinned: every request is handled on its connection's event loop")
    func pinned() async throws {
        #expect(try await answers(server: .http1PinnedToEventLoops()) == ["loop", "loop", "loop"])
    }

    @Test("Hummingbird's own HTTP/1: handled off the event loops")
    func unpinned() async throws {
        #expect(try await answers(server: .http1()) == ["pool", "pool", "pool"])
    }
}
