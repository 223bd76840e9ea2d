/// A token-bucket rate limiter evaluated inside Redis in one `EVALSHA` round trip.
///
/// State per key is a hash `{tokens, ts}` kept in milli-tokens (integers, so the edges are exact):
/// the bucket holds `capacity` tokens and refills `refillPerSecond` tokens per second. The caller
/// passes the current time, which keeps the script deterministic and testable.
public struct TokenBucket: Sendable, Equatable {
    /// Most tokens the bucket holds (the burst).
    public var capacity: Int
    /// Tokens added per second.
    public var refillPerSecond: Int

    /// Creates a bucket description.
    public init(capacity: Int, refillPerSecond: Int) {
        self.capacity = capacity
        self.refillPerSecond = refillPerSecond
    }

    /// The outcome of taking tokens.
    public struct Decision: Sendable, Equatable {
        /// Whether the request may proceed.
        public var allowed: Bool
        /// Whole tokens left after this request.
        public var remaining: Int
        /// When denied: milliseconds until enough tokens exist (`Retry-After`).
        public var retryAfterMs: Int
        /// Milliseconds until the bucket is full again (`RateLimit-Reset`).
        public var resetMs: Int

        /// Creates a decision.
        public init(allowed: Bool, remaining: Int, retryAfterMs: Int, resetMs: Int) {
            self.allowed = allowed
            self.remaining = remaining
            self.retryAfterMs = retryAfterMs
            self.resetMs = resetMs
        }
    }

    /// The Lua script (KEYS[1] = bucket key; ARGV = capacity, refill/s, now ms, cost).
    public static let script = RedisScript("""
        local key = KEYS[1]
        local capacity = tonumber(ARGV[1]) * 1000
        local rate = tonumber(ARGV[2])
        local now = tonumber(ARGV[3])
        local cost = tonumber(ARGV[4]) * 1000
        local state = redis.call('HMGET', key, 'tokens', 'ts')
        local tokens = tonumber(state[1])
        local ts = tonumber(state[2])
        if tokens == nil or ts == nil then
          tokens = capacity
          ts = now
        end
        if now > ts then
          tokens = math.min(capacity, tokens + (now - ts) * rate)
          ts = now
        end
        local allowed = 0
        local retry_after = 0
        if tokens >= cost then
          tokens = tokens - cost
          allowed = 1
        else
          retry_after = math.ceil((cost - tokens) / rate)
        end
        redis.call('HSET', key, 'tokens', tokens, 'ts', ts)
        redis.call('PEXPIRE', key, math.ceil(capacity / rate) + 1000)
        return {allowed, math.floor(tokens / 1000), retry_after, math.ceil((capacity - tokens) / rate)}
        """)

    /// Takes `cost` tokens from the bucket at `key` as of `nowMs` (milliseconds since the epoch).
    public func take(_ cost: Int = 1, key: String, nowMs: Int64, using client: RedisClient) async throws(RedisError) -> Decision {
        let reply = try await client.evalSHA(Self.script, keys: [key], arguments: [
            .integer(Int64(capacity)), .integer(Int64(refillPerSecond)), .integer(nowMs), .integer(Int64(cost)),
        ])
        guard let values = reply.array?.compactMap(\.integer), values.count == 4 else {
            throw .server("unexpected token bucket reply \(reply)")
        }
        return Decision(allowed: values[0] == 1, remaining: Int(values[1]), retryAfterMs: Int(values[2]), resetMs: Int(values[3]))
    }
}
