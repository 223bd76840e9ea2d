import AsyncHTTPClient
@testable import Gateway
import HTTPTypes
import Hummingbird
import Logging
import NIOCore
import Synchronization
import Testing

/// The router path's streamed bodies: an upstream that falls silent is cut, a slow client is not
/// the upstream's silence. Real time, in-memory streams; every bound is a lower bound or a
/// generous upper one.
@Suite("Silence-limited body", .timeLimit(.minutes(1)))
struct SilenceLimitedBodyTests {
    /// What a client took, and whether the body ended properly.
    final class RecordingClient: Sendable {
        let parts = Mutex<[String]>([])
        let finished = Mutex(false)
        /// Told, as each part arrives, how many parts the client had taken before it.
        let observer = Mutex<Observer?>(nil)

        struct Observer: Sendable {
            let seen: @Sendable (Int) -> Void
            init(_ seen: @escaping @Sendable (Int) -> Void) { self.seen = seen }
        }
        /// How long the client holds each part before taking the next (backpressure).
        let holdsEachPart: Duration

        init(holdsEachPart: Duration = .zero) {
            self.holdsEachPart = holdsEachPart
        }

        var writer: any ResponseBodyWriter { Writer(client: self) }

        struct Writer: ResponseBodyWriter {
            let client: RecordingClient

            mutating func write(_ buffer: ByteBuffer) async throws {
                let taken = client.parts.withLock { $0.count }
                client.observer.withLock { $0 }?.seen(taken)
                client.parts.withLock { $0.append(String(buffer: buffer)) }
                if client.holdsEachPart > .zero { try await Task.sleep(for: client.holdsEachPart) }
            }

            consuming func finish(_ trailingHeaders: HTTPFields?) async throws {
                client.finished.withLock { $0 = true }
            }
        }
    }

    /// An upstream body fed by the test, which records when the relay stops reading it.
    enum ScriptedUpstream {
        static func make() -> (HTTPClientResponse.Body, AsyncStream<ByteBuffer>.Continuation, @Sendable () -> Bool) {
            let (stream, feed) = AsyncStream<ByteBuffer>.makeStream()
            let dropped = DroppedFlag()
            feed.onTermination = { _ in dropped.set() }
            return (.stream(stream), feed, { dropped.isSet })
        }
    }

    /// `count` parts, each produced the moment it is asked for, counting how many were asked for.
    struct CountedParts: AsyncSequence, Sendable {
        let count: Int
        let pulled: PullCounter

        struct AsyncIterator: AsyncIteratorProtocol {
            let parts: CountedParts
            mutating func next() async throws -> ByteBuffer? {
                let index = parts.pulled.value.withLock { pulled in
                    guard pulled < parts.count else { return Int?.none }
                    pulled += 1
                    return pulled
                }
                return index.map { ByteBuffer(string: "part \($0)") }
            }
        }

        func makeAsyncIterator() -> AsyncIterator { AsyncIterator(parts: self) }
    }

    final class PullCounter: Sendable {
        let value = Mutex(0)
    }

    final class DroppedFlag: Sendable {
        private let value = Mutex(false)
        func set() { value.withLock { $0 = true } }
        var isSet: Bool { value.withLock { $0 } }
    }

    func relay(_ upstream: HTTPClientResponse.Body, limit: Duration, to client: RecordingClient) async throws {
        let body = SilenceLimitedBody(upstream: upstream, limit: limit, logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        try await body.responseBody.write(client.writer)
    }

    @Test("an upstream that sends a part and falls silent is cut after the limit, not before; the client keeps the part, the body never ends properly, and the upstream is dropped")
    func silentUpstreamIsCut() async throws {
        let (upstream, feed, wasDropped) = ScriptedUpstream.make()
        feed.yield(ByteBuffer(string: "first"))
        let client = RecordingClient()
        let started = ContinuousClock.now
        await #expect(throws: UpstreamBodySilent.self) {
            try await relay(upstream, limit: .milliseconds(300), to: client)
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(300), "cut after \(waited), before the 300 ms limit")
        #expect(client.parts.withLock { $0 } == ["first"])
        #expect(!client.finished.withLock { $0 }, "a cut body must not end as if complete")
        // The relay's reader was cancelled on the way out, which ended its iteration of the upstream.
        #expect(wasDropped(), "the silent upstream is still being read")
    }

    @Test("a relay cancelled from outside ends with an error, never as a complete body")
    func cancelledRelayIsNotComplete() async throws {
        let (upstream, feed, wasDropped) = ScriptedUpstream.make()
        feed.yield(ByteBuffer(string: "first"))
        let client = RecordingClient()
        let relaying = Task { try await relay(upstream, limit: .seconds(30), to: client) }
        let deadline = ContinuousClock.now + .seconds(10)
        while client.parts.withLock({ $0.isEmpty }), ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
        relaying.cancel()
        await #expect(throws: (any Error).self) { try await relaying.value }
        #expect(client.parts.withLock { $0 } == ["first"])
        #expect(!client.finished.withLock { $0 }, "a cancelled relay must not end the body as if complete")
        #expect(wasDropped())
    }

    @Test("the upstream is read one part ahead of the client at most: backpressure reaches it")
    func backpressureReachesUpstream() async throws {
        let pulled = PullCounter()
        let parts = CountedParts(count: 5, pulled: pulled)
        let client = RecordingClient(holdsEachPart: .milliseconds(200))
        let aheadAtEachPart = Mutex<[Int]>([])
        let watching = RecordingClient.Observer { taken in aheadAtEachPart.withLock { $0.append(pulled.value.withLock { $0 } - taken) } }
        client.observer.withLock { $0 = watching }
        try await relay(.stream(parts), limit: .seconds(30), to: client)
        #expect(client.parts.withLock { $0.count } == 5 && client.finished.withLock { $0 })
        let ahead = aheadAtEachPart.withLock { $0 }
        #expect(ahead.allSatisfy { $0 <= 1 }, "parts pulled from the upstream beyond those the client took, at each part: \(ahead)")
    }

    @Test("time a slow client spends on a part is not the upstream's silence")
    func slowClientIsNotSilence() async throws {
        let (upstream, feed, _) = ScriptedUpstream.make()
        for part in ["one", "two"] { feed.yield(ByteBuffer(string: part)) }
        feed.finish()
        // Each part is held 2 s by the client, twice the limit; the upstream always has the next one ready.
        let client = RecordingClient(holdsEachPart: .seconds(2))
        try await relay(upstream, limit: .seconds(1), to: client)
        #expect(client.parts.withLock { $0 } == ["one", "two"])
        #expect(client.finished.withLock { $0 })
    }

    @Test("a stream that lasts longer than the limit lives as long as no gap reaches it")
    func steadyStreamLives() async throws {
        let (upstream, feed, _) = ScriptedUpstream.make()
        let producer = Task {
            for index in 1...6 {
                feed.yield(ByteBuffer(string: "part \(index)"))
                try await Task.sleep(for: .milliseconds(300))
            }
            feed.finish()
        }
        let client = RecordingClient()
        let started = ContinuousClock.now
        try await relay(upstream, limit: .milliseconds(1_500), to: client)
        try await producer.value
        #expect(ContinuousClock.now - started >= .milliseconds(1_500), "the stream outlasted the limit")
        #expect(client.parts.withLock { $0 } == (1...6).map { "part \($0)" })
        #expect(client.finished.withLock { $0 })
    }

    @Test("an upstream error ends the relay with that error, not as silence")
    func upstreamErrorPassesThrough() async throws {
        struct Broken: Error {}
        let (stream, feed) = AsyncThrowingStream<ByteBuffer, any Error>.makeStream()
        feed.yield(ByteBuffer(string: "first"))
        feed.finish(throwing: Broken())
        let client = RecordingClient()
        await #expect(throws: Broken.self) {
            try await relay(.stream(stream), limit: .seconds(30), to: client)
        }
        #expect(client.parts.withLock { $0 } == ["first"])
        #expect(!client.finished.withLock { $0 })
    }
}
