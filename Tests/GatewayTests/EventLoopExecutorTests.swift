@testable import Gateway
import NIOCore
import NIOPosix
import Testing

@Suite("Event-loop task executor")
struct EventLoopExecutorTests {
    @Test("a task preferring it runs on its event loop, and is back there after awaiting work finished on another thread")
    func staysOnTheLoop() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        defer { group.shutdownGracefully { _ in } }
        let loop = group.next()
        let other = group.next()
        #expect(loop !== other)
        #expect(!loop.inEventLoop)
        let observed = try await withTaskExecutorPreference(EventLoopExecutor(loop)) {
            var onLoop = [loop.inEventLoop]
            // What async-http-client asks for its preferred loop: the current one.
            let chosen = group.any()
            _ = try await other.submit { 1 }.get()  // completed on the other loop's thread
            onLoop.append(loop.inEventLoop)
            try await Task.sleep(for: .milliseconds(5))  // resumed by a timer
            onLoop.append(loop.inEventLoop)
            return (onLoop, chosen === loop)
        }
        #expect(observed.0 == [true, true, true])
        #expect(observed.1)
    }
}
