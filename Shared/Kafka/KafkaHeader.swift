import CRdKafka

/// One Kafka record header: a name and raw bytes (nil for a header without a value).
public struct KafkaHeader: Sendable, Equatable, Hashable {
    /// The header name.
    public var key: String
    /// The header value, as bytes.
    public var value: [UInt8]?

    /// A header with raw bytes.
    public init(key: String, value: [UInt8]?) {
        self.key = key
        self.value = value
    }

    /// A header whose value is UTF-8 text.
    public init(key: String, text: String) {
        self.init(key: key, value: Array(text.utf8))
    }

    /// The value decoded as UTF-8, if any.
    public var text: String? { value.map { String(decoding: $0, as: UTF8.self) } }
}

extension Array where Element == KafkaHeader {
    /// The first header named `key`, as text.
    public func text(for key: String) -> String? {
        first { $0.key == key }?.text
    }

    /// Replaces every header named `key` with one carrying `text`.
    public mutating func set(_ key: String, text: String) {
        removeAll { $0.key == key }
        append(KafkaHeader(key: key, text: text))
    }

    /// A new librdkafka header list (owned by the caller until passed to a produce call).
    func makeRdKafkaHeaders() -> OpaquePointer? {
        guard !isEmpty, let list = rd_kafka_headers_new(count) else { return nil }
        for header in self {
            if let value = header.value {
                value.withUnsafeBytes { bytes in
                    _ = rd_kafka_header_add(list, header.key, -1, bytes.baseAddress, bytes.count)
                }
            } else {
                _ = rd_kafka_header_add(list, header.key, -1, nil, 0)
            }
        }
        return list
    }

    /// Copies the headers of a consumed message.
    init(message: UnsafePointer<rd_kafka_message_t>) {
        self = []
        var list: OpaquePointer?
        guard rd_kafka_message_headers(message, &list) == RD_KAFKA_RESP_ERR_NO_ERROR, let list else { return }
        var index = 0
        var name: UnsafePointer<CChar>?
        var value: UnsafeRawPointer?
        var size = 0
        while rd_kafka_header_get_all(list, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
            let key = name.map { String(cString: $0) } ?? ""
            let bytes = value.map { [UInt8](UnsafeRawBufferPointer(start: $0, count: size)) }
            append(KafkaHeader(key: key, value: bytes))
            index += 1
        }
    }
}
