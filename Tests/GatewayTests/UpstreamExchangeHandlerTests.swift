@testable import Gateway
import HTTPTypes
import NIOCore
import NIOEmbedded
import NIOHTTPTypes
import Testing

/// The upstream side of the event-loop path, driven part by part on an embedded channel (no I/O).
@Suite("Upstream exchange handler")
struct UpstreamExchangeHandlerTests {
    let request = HTTPRequest(method: .get, scheme: nil, authority: "users:8081", path: "/api/v1/users/me")

    func connected(limit: Int = 1_024, idle: TimeAmount = .seconds(10)) throws -> (EmbeddedChannel, UpstreamExchangeHandler) {
        let channel = EmbeddedChannel()
        let handler = UpstreamExchangeHandler(wholeBodyLimit: limit, bodyIdleTimeout: idle, eventLoop: channel.eventLoop)
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 8081)).wait()
        return (channel, handler)
    }

    func head(_ fields: HTTPFields) -> HTTPResponsePart {
        .head(HTTPResponse(status: .ok, headerFields: fields))
    }

    @Test("a small answer arrives whole; the connection is then idle and offered back")
    func wholeAnswer() throws {
        let (channel, handler) = try connected()
        var offered = 0
        handler.onReusable = { offered += 1 }
        let reply = handler.send(request, deadline: .now() + .seconds(5))
        #expect(try channel.readOutbound(as: HTTPRequestPart.self) == .head(request))
        #expect(!handler.isIdle)
        try channel.writeInbound(head([.contentLength: "5"]))
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "he")))
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "llo")))
        try channel.writeInbound(HTTPResponsePart.end(nil))
        let answer = try reply.wait()
        guard case .whole(let body) = answer.body else { Issue.record("not whole"); return }
        #expect(String(buffer: body) == "hello")
        #expect(offered == 1 && handler.isIdle)
    }

    @Test("an answer without Content-Length streams part by part, and a late sink gets what was buffered")
    func streamedAnswer() throws {
        let (channel, handler) = try connected()
        let reply = handler.send(request, deadline: .now() + .seconds(5))
        try channel.writeInbound(head([.contentType: "text/event-stream"]))
        guard case .streaming(let stream) = try reply.wait().body else { Issue.record("not streamed"); return }
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "data: 1\n\n")))
        // (Backpressure sets the upstream channel's autoRead, which an embedded channel ignores.)
        var events: [String] = []
        stream.attach { event in
            switch event {
            case .body(let part): events.append(String(buffer: part))
            case .end: events.append("end")
            case .failed: events.append("failed")
            }
        }
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "data: 2\n\n")))
        try channel.writeInbound(HTTPResponsePart.end(nil))
        #expect(events == ["data: 1\n\n", "data: 2\n\n", "end"])
        #expect(handler.isIdle)
    }

    @Test("closed before any answer, broken mid-body, and no head before the deadline fail distinctly; the connection closes")
    func failures() throws {
        let (quiet, quietHandler) = try connected()
        let neverAnswered = quietHandler.send(request, deadline: .now() + .seconds(5))
        try quiet.close().wait()
        #expect(throws: UpstreamExchangeError.closedBeforeAnswer) { try neverAnswered.wait() }

        let (broken, brokenHandler) = try connected()
        let cut = brokenHandler.send(request, deadline: .now() + .seconds(5))
        try broken.writeInbound(head([.contentLength: "10"]))
        try broken.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "half")))
        try broken.close().wait()
        #expect(throws: UpstreamExchangeError.brokeOff) { try cut.wait() }

        let (slow, slowHandler) = try connected()
        // The embedded loop's clock is virtual: move it past the deadline.
        let deadline = NIODeadline.now() + .seconds(1)
        let late = slowHandler.send(request, deadline: deadline)
        slow.embeddedEventLoop.advanceTime(to: deadline + .seconds(1))
        try #require(!slow.isActive, "the timeout closes the connection (else the wait below would block)")
        #expect(throws: UpstreamExchangeError.timeout) { try late.wait() }
    }

    @Test("a small body that stalls after its head fails at the exchange's deadline, not before; the connection closes")
    func stalledWholeBody() throws {
        let (channel, handler) = try connected()
        let start = channel.embeddedEventLoop.now
        let reply = handler.send(request, deadline: start + .seconds(5))
        try channel.writeInbound(head([.contentLength: "10"]))
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "half")))
        channel.embeddedEventLoop.advanceTime(to: start + .seconds(4))
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "mo")))
        #expect(channel.isActive, "still within the deadline")
        channel.embeddedEventLoop.advanceTime(to: start + .seconds(6))
        try #require(!channel.isActive, "the deadline closes the connection (else the wait below would block)")
        #expect(throws: UpstreamExchangeError.timeout) { try reply.wait() }

        // One that ends in time is not cut afterwards, and the connection stays for the next.
        let (prompt, promptHandler) = try connected()
        let answered = promptHandler.send(request, deadline: prompt.embeddedEventLoop.now + .seconds(5))
        try prompt.writeInbound(head([.contentLength: "2"]))
        try prompt.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "ok")))
        try prompt.writeInbound(HTTPResponsePart.end(nil))
        _ = try answered.wait()
        prompt.embeddedEventLoop.advanceTime(by: .seconds(60))
        #expect(prompt.isActive && promptHandler.isIdle)
    }

    /// Collects what a stream hands its client side, as text.
    func recording(_ stream: UpstreamBodyStream) -> NIOLoopBoundBox<[String]> {
        let events = NIOLoopBoundBox<[String]>([], eventLoop: stream.eventLoop)
        stream.attach { event in
            switch event {
            case .body(let part): events.value.append(String(buffer: part))
            case .end: events.value.append("end")
            case .failed: events.value.append("failed")
            }
        }
        return events
    }

    struct NotStreamed: Error {}

    /// Sends a request on `handler` and answers it with a head without `Content-Length`: the
    /// streamed body, and what its client side has received so far.
    func openStream(
        on channel: EmbeddedChannel, _ handler: UpstreamExchangeHandler, contentType: String = "application/json"
    ) throws -> (UpstreamBodyStream, NIOLoopBoundBox<[String]>) {
        let reply = handler.send(request, deadline: channel.embeddedEventLoop.now + .seconds(5))
        try channel.writeInbound(head([.contentType: contentType]))
        guard case .streaming(let stream) = try reply.wait().body else { throw NotStreamed() }
        return (stream, recording(stream))
    }

    @Test("a streamed body may take long but not fall silent: each part restarts the idle timeout, silence past it fails the stream and closes the connection")
    func silentStream() throws {
        let (channel, handler) = try connected(idle: .seconds(3))
        let loop = channel.embeddedEventLoop
        let (_, events) = try openStream(on: channel, handler)
        // Ten parts two seconds apart: twenty seconds in all, never three silent.
        for index in 0..<10 {
            loop.advanceTime(by: .seconds(2))
            try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "\(index)")))
        }
        #expect(channel.isActive && events.value.count == 10 && !events.value.contains("failed"))
        loop.advanceTime(by: .milliseconds(2_900))
        #expect(channel.isActive, "not yet three seconds silent")
        loop.advanceTime(by: .milliseconds(200))
        #expect(events.value.last == "failed" && !channel.isActive)
    }

    @Test("an event stream has no idle limit: it may stay quiet as long as its upstream keeps it open")
    func quietEventStream() throws {
        let (channel, handler) = try connected(idle: .seconds(3))
        let (_, events) = try openStream(on: channel, handler, contentType: "text/event-stream; charset=utf-8")
        channel.embeddedEventLoop.advanceTime(by: .seconds(600))
        try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: ": heartbeat\n\n")))
        #expect(channel.isActive && events.value == [": heartbeat\n\n"])
    }

    @Test("time the client's backpressure paused reading does not count as the upstream's silence")
    func pausedStream() throws {
        let (channel, handler) = try connected(idle: .seconds(3))
        let loop = channel.embeddedEventLoop
        let (stream, events) = try openStream(on: channel, handler)
        loop.advanceTime(by: .seconds(2))
        stream.wantsMore(false)
        loop.advanceTime(by: .seconds(30))
        #expect(channel.isActive && events.value.isEmpty, "paused by the client, not silent")
        stream.wantsMore(true)
        loop.advanceTime(by: .milliseconds(2_900))
        #expect(channel.isActive, "the quiet period restarted when reading resumed")
        loop.advanceTime(by: .milliseconds(200))
        #expect(events.value == ["failed"] && !channel.isActive)
    }

    @Test("a connection reused after a paused streamed answer carries the next exchange unharmed by the old stream's idle check")
    func reuseAfterStream() throws {
        let (channel, handler) = try connected(idle: .seconds(3))
        let loop = channel.embeddedEventLoop
        var offered = 0
        handler.onReusable = { offered += 1 }
        let (stream, events) = try openStream(on: channel, handler)
        stream.wantsMore(false)
        try channel.writeInbound(HTTPResponsePart.end(nil))
        #expect(events.value == ["end"] && offered == 1 && handler.isIdle)

        // The next exchange streams too and keeps sending parts; the first one's checks are gone.
        let (_, nextEvents) = try openStream(on: channel, handler)
        for _ in 0..<5 {
            loop.advanceTime(by: .seconds(2))
            try channel.writeInbound(HTTPResponsePart.body(ByteBuffer(string: "x")))
        }
        #expect(channel.isActive && nextEvents.value.count == 5, "reading resumed with the new exchange; its parts keep it alive")
        loop.advanceTime(by: .seconds(4))
        #expect(nextEvents.value.last == "failed" && !channel.isActive, "and its own silence still ends it")
    }

    @Test("Connection: close on the answer means the connection is not offered back")
    func connectionClose() throws {
        let (channel, handler) = try connected()
        var offered = 0
        handler.onReusable = { offered += 1 }
        let reply = handler.send(request, deadline: .now() + .seconds(5))
        try channel.writeInbound(head([.contentLength: "0", .connection: "close"]))
        try channel.writeInbound(HTTPResponsePart.end(nil))
        _ = try reply.wait()
        #expect(offered == 0 && !channel.isActive)
    }
}
