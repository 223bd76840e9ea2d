/// A token-bucket rate limiter evaluated inside Redis in one `EVALSHA` round trip.
///
/// State per key is a hash `{tokens, ts}` kept in milli-tokens (integers, so the edges are exact):
/// the bucket holds `capacity` tokens and refills `refillPerSecond` tokens per second. Time is
/// Redis's own clock (`TIME`), one clock for every gateway instance: with each instance passing
/// its own, a clock behind the bucket's last update froze the bucket (no refill until that clock
/// caught up), and following it back would mint tokens whenever instances alternate. Tests pass
/// an explicit time instead, which keeps the script's edges deterministic.
///
/// Optional *veto keys* ride along in the same round trip: when any of them exists, the request
/// is refused before any token is spent (the gateway passes the token's and the user's
/// revocation keys, so one `EVALSHA` both checks revocation and rate-limits).
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
        /// Whether a veto key existed (then nothing was spent and `allowed` is false).
        public var vetoed: Bool

        /// Creates a decision.
        public init(allowed: Bool, remaining: Int, retryAfterMs: Int, resetMs: Int, vetoed: Bool = false) {
            self.allowed = allowed
            self.remaining = remaining
            self.retryAfterMs = retryAfterMs
            self.resetMs = resetMs
            self.vetoed = vetoed
        }
    }

    /// The Lua script (KEYS[1] = bucket key, any further KEYS = veto keys; ARGV = capacity,
    /// refill/s, now ms (negative: Redis's clock), cost). Returns {allowed, remaining, retry after
    /// ms, reset ms}; allowed is -1 when a veto key exists.
    public static let script = RedisScript("""
        if #KEYS > 1 and redis.call('EXISTS', unpack(KEYS, 2)) > 0 then
          return {-1, 0, 0, 0}
        end
        local key = KEYS[1]
        local capacity = tonumber(ARGV[1]) * 1000
        local rate = tonumber(ARGV[2])
        local now = tonumber(ARGV[3])
        if now < 0 then
          local time = redis.call('TIME')
          now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
        end
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

    /// Takes `cost` tokens from the bucket at `key` as of `nowMs` (milliseconds since the epoch;
    /// nil, the default: Redis's clock), unless one of `vetoKeys` exists.
    public func take(
        _ cost: Int = 1, key: String, nowMs: Int64? = nil, vetoKeys: [String] = [], using client: RedisClient
    ) async throws(RedisError) -> Decision {
        let keys = [key] + vetoKeys
        let reply = try await client.evalSHA(Self.script, keys: keys, arguments: [
            .integer(Int64(capacity)), .integer(Int64(refillPerSecond)), .integer(nowMs ?? -1), .integer(Int64(cost)),
        ])
        guard let values = reply.array?.compactMap(\.integer), values.count == 4 else {
            throw .server("unexpected token bucket reply \(reply)")
        }
        if values[0] == -1 { return Decision(allowed: false, remaining: 0, retryAfterMs: 0, resetMs: 0, vetoed: true) }
        return Decision(allowed: values[0] == 1, remaining: Int(values[1]), retryAfterMs: Int(values[2]), resetMs: Int(values[3]))
    }
}
