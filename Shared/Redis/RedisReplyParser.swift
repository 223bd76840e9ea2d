import CHiredis

/// An incremental RESP2 parser over hiredis's `redisReader`: bytes go in as they arrive from the
/// socket, whole replies come out. Owned by one channel handler and used only on its event loop.
final class RedisReplyParser {
    private let reader: UnsafeMutablePointer<redisReader>

    /// Allocates hiredis's reader.
    init() throws(RedisError) {
        guard let reader = redisReaderCreate() else { throw .connectFailed("cannot allocate a reply reader") }
        self.reader = reader
    }

    deinit {
        redisReaderFree(reader)
    }

    /// Appends bytes read from the socket.
    func feed(_ bytes: UnsafeRawBufferPointer) throws(RedisError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        guard redisReaderFeed(reader, base.assumingMemoryBound(to: CChar.self), bytes.count) == REDIS_OK else {
            throw .connectionLost("reply reader: \(errorText)")
        }
    }

    /// The next whole reply, or `nil` until more bytes arrive. A protocol error throws; the
    /// reader (and its connection) is unusable after that.
    func next() throws(RedisError) -> RedisValue? {
        var raw: UnsafeMutableRawPointer?
        guard redisReaderGetReply(reader, &raw) == REDIS_OK else { throw .connectionLost("protocol error: \(errorText)") }
        guard let raw else { return nil }
        defer { freeReplyObject(raw) }
        return RedisValue(reply: raw.assumingMemoryBound(to: redisReply.self))
    }

    private var errorText: String {
        withUnsafeBytes(of: reader.pointee.errstr) { raw in
            String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
        }
    }
}
