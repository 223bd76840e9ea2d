import Foundation
import Logging
import Redis
import TestSupport
import Testing

/// The Redis client against the real redis-server `make test` starts.
@Suite("Redis client (real redis-server)")
struct RedisClientTests {
    private func client() throws -> RedisClient { try RedisTestKit.client() }

    private func key(_ name: String) -> String { "test:\(name):\(UUID().uuidString.prefix(8))" }

    @Test("commands are binary safe and error replies are typed")
    func basics() async throws {
        let redis = try client()
        let k = key("bin")
        let bytes: [UInt8] = [0, 13, 10, 255, 0x24]
        #expect(try await redis.execute(RedisCommand("SET", [.text(k), .binary(bytes)])) == .status("OK"))
        #expect(try await redis.execute(RedisCommand("GET", [.text(k)])) == .bulk(bytes))
        #expect(try await redis.execute(RedisCommand("GET", [.text(key("missing"))])) == .null)
        await #expect(throws: RedisError.server("ERR unknown command 'NOPE', with args beginning with: ")) {
            try await redis.execute(RedisCommand("NOPE"))
        }
        await redis.close()
    }

    @Test("10,000 pipelined commands come back in order in one call")
    func pipelining() async throws {
        let redis = try client()
        let k = key("pipe")
        let replies = try await redis.pipeline((0..<10_000).map { _ in RedisCommand("INCR", k) })
        #expect(replies.count == 10_000)
        #expect(replies.map(\.integer) == (1...10_000).map { Int64($0) })
        await redis.close()
    }

    @Test("concurrent callers share connections, and each gets its own replies")
    func multiplexing() async throws {
        let redis = try client()
        let prefix = key("mux")
        // Pipelines of different lengths interleave on the same connections; a reply handed to the
        // wrong caller would show up as another caller's value or count.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for caller in 0..<400 {
                group.addTask {
                    let k = "\(prefix):\(caller)"
                    let writes = (0...(caller % 5)).map { _ in RedisCommand("RPUSH", k, "\(caller)") }
                    let counts = try await redis.pipeline(writes).map(\.integer)
                    #expect(counts == (1...writes.count).map { Int64($0) })
                    let stored = try await redis.execute(RedisCommand("LRANGE", k, "0", "-1"))
                    #expect(stored.array?.map(\.text) == Array(repeating: "\(caller)", count: writes.count))
                }
            }
            try await group.waitForAll()
        }
        await redis.close()
    }

    @Test("after close, commands fail with closed")
    func closed() async throws {
        let redis = try client()
        #expect(try await redis.execute(RedisCommand("PING")) == .status("PONG"))
        await redis.close()
        await #expect(throws: RedisError.closed) { try await redis.execute(RedisCommand("PING")) }
    }

    @Test("closing while connections are still being opened: every caller gets an answer", .timeLimit(.minutes(1)))
    func closeWhileConnecting() async throws {
        let redis = try client()
        // A caller may be answered (PONG) or refused (closed, connection lost); none may hang —
        // a waiter left without an answer runs into the time limit and fails the test.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<50 {
                group.addTask { _ = try? await redis.execute(RedisCommand("PING")) }
            }
            group.addTask { await redis.close() }
        }
        await #expect(throws: RedisError.closed) { try await redis.execute(RedisCommand("PING")) }
    }

    @Test("EVALSHA runs a script the server does not know yet, and leaves it cached")
    func evalSHA() async throws {
        let redis = try client()
        // A source no one has loaded before (no global SCRIPT FLUSH: other tests use scripts too).
        let marker = UUID().uuidString
        let script = RedisScript("return {KEYS[1], ARGV[1], '\(marker)'}")
        #expect(try await redis.execute(RedisCommand("SCRIPT", "EXISTS", script.sha1)) == .array([.integer(0)]))
        let reply = try await redis.evalSHA(script, keys: ["k"], arguments: ["v"])
        #expect(reply == .array([.bulk(Array("k".utf8)), .bulk(Array("v".utf8)), .bulk(Array(marker.utf8))]))
        #expect(try await redis.execute(RedisCommand("SCRIPT", "EXISTS", script.sha1)) == .array([.integer(1)]))
        await redis.close()
    }

    @Test("pub/sub delivers published messages")
    func pubSub() async throws {
        let redis = try client()
        let channel = key("chan")
        let subscription = redis.subscribe([channel])
        try await subscription.waitUntilSubscribed()
        #expect(try await redis.execute(RedisCommand("PUBLISH", channel, "hello")).integer == 1)
        #expect(try await redis.execute(RedisCommand("PUBLISH", channel, "world")).integer == 1)
        var received: [String] = []
        for try await message in subscription {
            #expect(message.channel == channel)
            received.append(message.text)
            if received.count == 2 { break }
        }
        #expect(received == ["hello", "world"])
        await redis.close()
    }
}
