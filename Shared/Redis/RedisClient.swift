public import Logging
import NIOCore
import NIOPosix
public import ServiceLifecycle
import Synchronization

/// A Redis client: one multiplexed connection per event loop of NIO's shared group, with
/// hiredis's parser reading the replies.
///
/// - Non-blocking: commands are written on the connection's event loop and their replies complete
///   a promise there; a caller already running on that loop (the gateway, with event-loop affinity)
///   never changes thread. Callers elsewhere use the loops in turn.
/// - Pipelining: concurrent callers share a connection (Redis answers in order); ``pipeline(_:)``
///   sends several commands as one write and gets every reply in one round trip.
/// - Scripts: ``evalSHA(_:keys:arguments:)`` sends `EVALSHA` and, on `NOSCRIPT`, falls back to
///   `EVAL` once (which also caches the script for the next call).
/// - Pub/sub: ``subscribe(_:)`` yields messages as an `AsyncSequence` over a dedicated connection.
/// - Failures: a broken or timed-out connection fails everything outstanding on it and closes; the
///   next command connects anew. A command is retried once on a new connection only when the
///   server (almost certainly) never read it: it never went out at all, or it went out on a
///   connection that had gone quiet and was then found closed or reset before the server sent a
///   single byte back (the server had restarted, or dropped the idle connection). Timeouts are
///   never retried: the server may have run the command.
/// - As a ServiceLifecycle `Service`, it closes its connections on graceful shutdown.
public final class RedisClient: Service, Sendable {
    private let configuration: RedisConfiguration
    private let slots: [RedisChannelSlot]
    private let nextSlot = Atomic<Int>(0)
    private let logger: Logger

    /// Creates the client; connections are opened on first use.
    public init(configuration: RedisConfiguration, logger: Logger) {
        self.configuration = configuration
        // The blocking connections (pub/sub, readiness probe) write with plain write(2): a server
        // that went away must not kill the process.
        signal(SIGPIPE, SIG_IGN)
        self.slots = MultiThreadedEventLoopGroup.singleton.makeIterator().map {
            RedisChannelSlot(eventLoop: $0, configuration: configuration)
        }
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
        let slot = slotForCaller()
        do {
            return try await slot.send(commands)
        } catch where !error.neverExecuted {
            throw error.error
        } catch {
            // The server never ran it (see the type's documentation): once more, on a new connection.
        }
        do {
            return try await slot.send(commands)
        } catch {
            throw error.error
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

    /// Closes the connections; later commands fail with ``RedisError/closed``.
    public func close() async {
        for slot in slots { slot.close() }
    }

    /// Runs until graceful shutdown, then closes.
    public func run() async throws {
        try? await gracefulShutdown()
        await close()
    }

    /// The connection on the caller's event loop when it runs on one; otherwise the loops in turn.
    private func slotForCaller() -> RedisChannelSlot {
        if let current = MultiThreadedEventLoopGroup.currentEventLoop,
           let slot = slots.first(where: { $0.eventLoop === current }) {
            return slot
        }
        let turn = nextSlot.add(1, ordering: .relaxed).oldValue
        return slots[turn % slots.count]
    }
}
