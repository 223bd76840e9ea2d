import CHiredis

/// A reply from Redis (RESP2).
public enum RedisValue: Sendable, Equatable {
    /// A bulk string (binary safe).
    case bulk([UInt8])
    /// A status reply such as `OK` or `PONG`.
    case status(String)
    /// An integer reply.
    case integer(Int64)
    /// An array reply.
    case array([RedisValue])
    /// The null reply.
    case null
    /// An error reply (`ERR …`, `NOSCRIPT …`); pipelines return these in place rather than throwing.
    case error(String)

    /// Bulk or status text, decoded as UTF-8.
    public var text: String? {
        switch self {
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        case .status(let text): text
        case .integer, .array, .null, .error: nil
        }
    }

    /// The integer value (also parses a numeric bulk string).
    public var integer: Int64? {
        switch self {
        case .integer(let value): value
        case .bulk, .status: text.flatMap { Int64($0) }
        case .array, .null, .error: nil
        }
    }

    /// The elements of an array reply.
    public var array: [RedisValue]? {
        if case .array(let values) = self { values } else { nil }
    }

    /// Copies a hiredis reply.
    init(reply: UnsafePointer<redisReply>) {
        let r = reply.pointee
        switch r.type {
        case REDIS_REPLY_STRING:
            self = .bulk(r.str.map { Array(UnsafeRawBufferPointer(start: $0, count: r.len)) } ?? [])
        case REDIS_REPLY_STATUS:
            self = .status(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_ERROR:
            self = .error(r.str.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: r.len), as: UTF8.self) } ?? "")
        case REDIS_REPLY_INTEGER:
            self = .integer(Int64(r.integer))
        case REDIS_REPLY_ARRAY:
            self = .array((0..<r.elements).compactMap { index in r.element[index].map { RedisValue(reply: $0) } })
        default:
            self = .null
        }
    }
}

/// One command: its name and arguments as bytes (binary safe).
public struct RedisCommand: Sendable, Equatable {
    /// Name and arguments.
    public var arguments: [[UInt8]]

    /// A command from text arguments, for example `RedisCommand("SET", "k", "v")`.
    public init(_ arguments: String...) {
        self.arguments = arguments.map { Array($0.utf8) }
    }

    /// A command from text and binary arguments.
    public init(_ name: String, _ arguments: [RedisArgument]) {
        self.arguments = [Array(name.utf8)] + arguments.map(\.bytes)
    }
}

/// A command argument.
public enum RedisArgument: Sendable, Equatable, ExpressibleByStringLiteral, ExpressibleByIntegerLiteral {
    case text(String)
    case binary([UInt8])
    case integer(Int64)

    public init(stringLiteral value: String) { self = .text(value) }
    public init(integerLiteral value: Int64) { self = .integer(value) }

    var bytes: [UInt8] {
        switch self {
        case .text(let text): Array(text.utf8)
        case .binary(let bytes): bytes
        case .integer(let value): Array(String(value).utf8)
        }
    }
}
