@testable import Gateway
import HTTPTypes
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Testing
import TestSupport

/// The event-loop path's connection pool against a real keep-alive HTTP/1.1 upstream on loopback
/// (a few lines of NIO that answer every request with `200 ok` and count their connections).
@Suite("Upstream channel pool")
struct UpstreamChannelPoolTests {
    let request = HTTPRequest(method: .get, scheme: nil, authority: "users", path: "/api/v1/users/me")

    @Test("an idle connection is reused, closed at shutdown, and none is kept afterwards")
    func closesIdleConnectionsAtShutdown() async throws {
        try await withPool { pool, loop, upstream in
            try await exercise(pool, on: loop, against: upstream)
        }
    }

    /// Reuse of a younger connection is the test above's (with the default limit): a short limit
    /// here cannot promise two exchanges close enough together on a busy machine.
    @Test("a connection idle for longer than maxIdleTime is closed instead of reused")
    func expiresLongIdleConnections() async throws {
        try await withPool(maxIdleTime: .milliseconds(300)) { pool, loop, upstream in
            let exchange = { try await pool.exchange(self.request, with: .users, on: loop, deadline: .now() + .seconds(10)).get() }
            #expect(try await exchange().head.status == .ok)
            #expect(upstream.counts.accepted == 1)
            try await Poll.until("the connection is kept at the upstream", deadline: .seconds(30)) { upstream.counts.open == 1 }
            // The expiry is by the clock alone: after this pause the kept connection is older
            // than maxIdleTime however fast or slow the machine is.
            try await Task.sleep(for: .milliseconds(600))
            #expect(try await exchange().head.status == .ok)
            #expect(upstream.counts.accepted == 2, "the long-idle connection should have been replaced")
            try await Poll.until("the upstream sees the long-idle connection closed", deadline: .seconds(30)) { upstream.counts.open == 1 }
            await pool.closeIdleConnections()
        }
    }

    /// Runs `body` with a pool of one event loop in front of a fresh ``CountingUpstream``, then
    /// stops both, whether `body` threw or not.
    private func withPool(
        maxIdleTime: Duration = UpstreamChannelPool.defaultMaxIdleTime,
        _ body: (UpstreamChannelPool, any EventLoop, CountingUpstream) async throws -> Void
    ) async throws {
        let upstream = try await CountingUpstream.start()
        let loops = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let pool = UpstreamChannelPool(
            group: loops, targets: [.users: .init(host: "127.0.0.1", port: upstream.port)],
            connectTimeout: .seconds(5), maxIdlePerUpstream: 4, maxIdleTime: maxIdleTime,
            wholeBodyLimit: 1_024, bodyIdleTimeout: .seconds(10)
        )
        var failure: (any Error)?
        do {
            try await body(pool, loops.next(), upstream)
        } catch {
            failure = error
        }
        try await upstream.stop()
        try await loops.shutdownGracefully()
        if let failure { throw failure }
    }

    private func exercise(_ pool: UpstreamChannelPool, on loop: any EventLoop, against upstream: CountingUpstream) async throws {
        for _ in 0..<2 {
            let reply = try await pool.exchange(request, with: .users, on: loop, deadline: .now() + .seconds(10)).get()
            #expect(reply.head.status == .ok)
        }
        #expect(upstream.counts.accepted == 1, "the second request should reuse the first connection")
        try await Poll.until("the kept connection is open at the upstream", deadline: .seconds(30)) { upstream.counts.open == 1 }

        await pool.closeIdleConnections()
        try await Poll.until("the upstream sees the idle connection closed", deadline: .seconds(30)) { upstream.counts.open == 0 }

        // After shutdown an exchange still gets its answer, but its connection is not kept.
        let late = try await pool.exchange(request, with: .users, on: loop, deadline: .now() + .seconds(10)).get()
        #expect(late.head.status == .ok)
        #expect(upstream.counts.accepted == 2)
        try await Poll.until("the late connection is closed after its answer", deadline: .seconds(30)) { upstream.counts.open == 0 }
    }
}

/// A keep-alive upstream that answers each request head (`\r\n\r\n`) with `200 ok`, counting the
/// connections it accepted and those still open.
private final class CountingUpstream: Sendable {
    struct Counts: Sendable {
        var accepted = 0
        var open = 0
    }

    let port: Int
    private let channel: any Channel
    private let box: NIOLockedValueBox<Counts>

    var counts: Counts { box.withLockedValue { $0 } }

    private init(port: Int, channel: any Channel, box: NIOLockedValueBox<Counts>) {
        self.port = port
        self.channel = channel
        self.box = box
    }

    static func start() async throws -> CountingUpstream {
        let box = NIOLockedValueBox(Counts())
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { child in
                child.eventLoop.makeCompletedFuture { try child.pipeline.syncOperations.addHandler(Responder(counts: box)) }
            }
            .bind(host: "127.0.0.1", port: 0).get()
        guard let port = channel.localAddress?.port else { throw UpstreamFailure.noPort }
        return CountingUpstream(port: port, channel: channel, box: box)
    }

    func stop() async throws {
        try await channel.close()
    }

    private enum UpstreamFailure: Error { case noPort }

    private final class Responder: ChannelInboundHandler {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer

        let counts: NIOLockedValueBox<Counts>
        var received = ""

        init(counts: NIOLockedValueBox<Counts>) {
            self.counts = counts
        }

        func channelActive(context: ChannelHandlerContext) {
            counts.withLockedValue { $0.accepted += 1; $0.open += 1 }
            context.fireChannelActive()
        }

        func channelInactive(context: ChannelHandlerContext) {
            counts.withLockedValue { $0.open -= 1 }
            context.fireChannelInactive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            received += String(buffer: unwrapInboundIn(data))
            while let end = received.range(of: "\r\n\r\n") {
                received.removeSubrange(..<end.upperBound)
                let answer = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Type: text/plain\r\n\r\nok"
                context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: answer)), promise: nil)
            }
        }
    }
}
