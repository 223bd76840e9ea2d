public import Logging
import NIOConcurrencyHelpers
import Foundation
import NIOPosix
public import ServiceLifecycle

/// A Redis client over hiredis: a small connection pool whose blocking I/O runs on the client's
/// own threads, never on Swift's cooperative pool.
///
/// - Pipelining: ``pipeline(_:)`` writes every command, then reads every reply — one round trip.
/// - Scripts: ``evalSHA(_:keys:arguments:)`` sends `EVALSHA` and, on `NOSCRIPT`, falls back to
///   `EVAL` once (which also caches the script for the next call).
/// - Pub/sub: ``subscribe(_:)`` yields messages as an `AsyncSequence` over a dedicated connection.
/// - Failures: a broken or timed-out connection is discarded. When a connection that sat idle in
///   the pool turns out closed or reset before any reply (the server restarted meanwhile), the
///   command is retried once on a fresh connection — the old server never ran it. Timeouts are
///   never retried: the server may have run the command.
/// - As a ServiceLifecycle `Service`, it closes its connections on graceful shutdown.
public final class RedisClient: Service, Sendable {
    private let configuration: RedisConfiguration
    private let pool: ConnectionPool
    private let threads: NIOThreadPool
    private let logger: Logger

    /// Creates the client; connections are opened on first use.
    public init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        self.pool = ConnectionPool(configuration: configuration)
        // hiredis writes with plain write(2): a server that went away must not kill the process.
        signal(SIGPIPE, SIG_IGN)
        self.threads = NIOThreadPool(numberOfThreads: max(configuration.poolSize, 1))
        self.threads.start()
        self.logger = logger
    }

    /// Runs one command; an error reply throws ``RedisError/server(_:)``.
    @discardableResult
    public func execute(_ command: RedisCommand) async throws(RedisError) -> RedisValue {
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply { throw .server(message) }
        return reply
    }

    /// Runs `commands` in one round trip; error replies are returned in place.
    public func pipeline(_ commands: [RedisCommand]) async throws(RedisError) -> [RedisValue] {
        guard !commands.isEmpty else { return [] }
        let pool = self.pool
        do {
            return try await threads.runIfActive {
                let lease = try pool.checkOut()
                do {
                    let replies = try lease.connection.pipeline(commands)
                    pool.checkIn(lease)
                    return replies
                } catch where lease.wasIdle && lease.connection.failedBeforeExecution {
                    // The idle connection had gone stale (server restarted); once more, on a new one.
                    let fresh = try pool.connectFresh()
                    let replies = try fresh.connection.pipeline(commands)
                    pool.checkIn(fresh)
                    return replies
                }
            }
        } catch let error as RedisError {
            throw error
        } catch {
            throw .closed
        }
    }

    /// Runs a script by SHA-1, loading it when the server does not know it yet.
    public func evalSHA(_ script: RedisScript, keys: [String], arguments: [RedisArgument]) async throws(RedisError) -> RedisValue {
        let command = RedisCommand("EVALSHA", [.text(script.sha1), .integer(Int64(keys.count))] + keys.map { .text($0) } + arguments)
        let reply = try await pipeline([command])[0]
        if case .error(let message) = reply {
            guard message.hasPrefix("NOSCRIPT") else { throw .server(message) }
            // EVAL runs the source and leaves it cached, so the next EVALSHA finds it — even if
            // another client flushed the script cache in between (SCRIPT LOAD + EVALSHA could lose that race).
            return try await execute(RedisCommand("EVAL", [.text(script.source), .integer(Int64(keys.count))] + keys.map { .text($0) } + arguments))
        }
        return reply
    }

    /// Subscribes to `channels`; the sequence ends (and the connection closes) when the
    /// consuming task stops iterating or is cancelled.
    public func subscribe(_ channels: [String]) -> RedisSubscription {
        RedisSubscription(configuration: configuration, channels: channels, logger: logger)
    }

    /// Closes pooled connections and stops the client's threads.
    public func close() async {
        pool.close()
        try? await threads.shutdownGracefully()
    }

    /// Runs until graceful shutdown, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }
}
