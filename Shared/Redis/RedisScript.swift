import Crypto

/// A Lua script run with `EVALSHA` (loaded automatically on `NOSCRIPT`).
public struct RedisScript: Sendable, Equatable {
    /// The Lua source.
    public let source: String
    /// Its SHA-1, as Redis names it.
    public let sha1: String

    /// Creates a script; the SHA-1 is computed locally.
    public init(_ source: String) {
        self.source = source
        self.sha1 = Insecure.SHA1.hash(data: Array(source.utf8)).map { byte in
            (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined()
    }
}
