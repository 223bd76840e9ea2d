import CHiredis
import Foundation
import NIOPosix
public import ServiceKit

/// Readiness probe for Redis: connects and sends `PING`, expecting `PONG`.
///
/// hiredis's blocking API runs on NIO's blocking thread pool, never on Swift's cooperative pool.
/// Each probe uses a fresh connection, so a restarted server is noticed without reconnect logic.
public struct RedisPingCheck: DependencyCheck {
    public let name = "redis"
    private let settings: RedisSettings
    private let timeout: Duration

    /// Creates a probe; `timeout` bounds both the connect and the command.
    public init(settings: RedisSettings, timeout: Duration = .milliseconds(1500)) {
        self.settings = settings
        self.timeout = timeout
    }

    public func check() async throws {
        let settings = self.settings
        let limit = timeval(tv_sec: Int(timeout.milliseconds / 1000), tv_usec: suseconds_t(timeout.milliseconds % 1000) * 1000)
        try await NIOThreadPool.singleton.runIfActive {
            guard let context = redisConnectWithTimeout(settings.host, Int32(settings.port), limit) else {
                throw RedisError(message: "cannot allocate a connection")
            }
            defer { redisFree(context) }
            if context.pointee.err != 0 {
                throw RedisError(message: Self.errorText(context))
            }
            redisSetTimeout(context, limit)
            let reply = "PING".withCString { command -> UnsafeMutableRawPointer? in
                var argv: [UnsafePointer<CChar>?] = [command]
                var lengths = [strlen(command)]
                return redisCommandArgv(context, 1, &argv, &lengths)
            }
            guard let reply else { throw RedisError(message: Self.errorText(context)) }
            defer { freeReplyObject(reply) }
            let typed = reply.assumingMemoryBound(to: redisReply.self).pointee
            guard typed.type == REDIS_REPLY_STATUS, let text = typed.str, String(cString: text) == "PONG" else {
                throw RedisError(message: "unexpected reply to PING")
            }
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
