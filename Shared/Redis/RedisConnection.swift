import CHiredis
import Foundation

/// One blocking hiredis connection, used by one thread at a time: a pub/sub subscription's
/// reading thread, or a readiness probe. Commands go through ``RedisClient``'s NIO connections.
final class RedisConnection {
    private let context: UnsafeMutablePointer<redisContext>

    /// Connects within `connectTimeout`; commands then time out after `commandTimeout`.
    init(host: String, port: Int, connectTimeout: Duration, commandTimeout: Duration) throws(RedisError) {
        guard let context = redisConnectWithTimeout(host, Int32(port), timeval(connectTimeout)) else {
            throw .connectFailed("cannot allocate a connection")
        }
        if context.pointee.err != 0 {
            let reason = Self.errorText(context)
            redisFree(context)
            throw .connectFailed(reason)
        }
        _ = redisSetTimeout(context, timeval(commandTimeout))
        _ = redisEnableKeepAlive(context)
        self.context = context
    }

    deinit {
        redisFree(context)
    }

    /// Sends every command, then reads every reply: one round trip for the whole pipeline.
    /// Error replies come back in place as ``RedisValue/error(_:)``.
    func pipeline(_ commands: [RedisCommand]) throws(RedisError) -> [RedisValue] {
        for command in commands {
            let appended = Self.withArgv(command.arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard appended == REDIS_OK else { throw .connectionLost(Self.errorText(context)) }
        }
        var replies: [RedisValue] = []
        replies.reserveCapacity(commands.count)
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw .connectionLost(Self.errorText(context)) }
            replies.append(RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self)))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Reads one reply (pub/sub); blocks until one arrives or the socket is shut down.
    func readReply() throws(RedisError) -> RedisValue {
        var raw: UnsafeMutableRawPointer?
        guard redisGetReply(context, &raw) == REDIS_OK, let raw else { throw .connectionLost(Self.errorText(context)) }
        defer { freeReplyObject(raw) }
        return RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
    }

    /// Interrupts a blocked ``readReply()`` from another thread.
    func interrupt() {
        _ = shutdown(context.pointee.fd, Int32(SHUT_RDWR))
    }

    private static func withArgv<R>(_ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R) -> R {
        // Copy each argument into one contiguous buffer so the pointers stay valid for the call.
        var storage: [UInt8] = []
        var offsets: [Int] = []
        for argument in arguments {
            offsets.append(storage.count)
            storage.append(contentsOf: argument)
        }
        storage.append(0) // never empty, so baseAddress is non-nil
        return storage.withUnsafeBufferPointer { buffer in
            guard let start = buffer.baseAddress else { preconditionFailure("storage always holds a terminator") }
            let base = UnsafeRawPointer(start).assumingMemoryBound(to: CChar.self)
            var argv: [UnsafePointer<CChar>?] = offsets.map { base + $0 }
            let lengths = arguments.map(\.count)
            return body(Int32(arguments.count), &argv, lengths)
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}

extension timeval {
    init(_ duration: Duration) {
        let ms = duration.milliseconds
        self.init(tv_sec: Int(ms / 1000), tv_usec: suseconds_t(ms % 1000) * 1000)
    }
}
