import CRdKafka

/// librdkafka configuration properties, applied in order (see librdkafka's CONFIGURATION.md).
public struct KafkaConfiguration: Sendable, Equatable {
    /// The properties; later entries override earlier ones.
    public var properties: [String: String]

    /// Creates a configuration for `brokers` with `properties` on top.
    public init(brokers: [String], properties: [String: String] = [:]) {
        self.properties = ["bootstrap.servers": brokers.joined(separator: ",")].merging(properties) { _, new in new }
    }

    /// Sets one property.
    public subscript(key: String) -> String? {
        get { properties[key] }
        set { properties[key] = newValue }
    }

    /// A new `rd_kafka_conf_t` holding these properties; the caller owns it.
    func makeConf() throws(KafkaError) -> OpaquePointer {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(code: "_CONF", message: "cannot allocate a configuration") }
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
            if rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
                rd_kafka_conf_destroy(conf)
                throw KafkaError(code: "_CONF", message: "\(key): " + String(cStringBuffer: errorBuffer))
            }
        }
        return conf
    }
}

extension KafkaConfiguration {
    /// Creates a librdkafka client of `type` with these properties, `events` as its callbacks'
    /// target, and whatever `prepare` adds to the configuration (delivery or rebalance callbacks).
    func makeHandle(
        _ type: rd_kafka_type_t, events: ClientEvents, prepare: (OpaquePointer) -> Void = { _ in }
    ) throws(KafkaError) -> OpaquePointer {
        let conf = try makeConf()
        events.install(on: conf)
        prepare(conf)
        var errorBuffer = [CChar](repeating: 0, count: 512)
        guard let handle = rd_kafka_new(type, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: "_CREATE", message: String(cStringBuffer: errorBuffer))
        }
        return handle
    }
}

extension String {
    /// Decodes a NUL-terminated C buffer.
    init(cStringBuffer buffer: [CChar]) {
        self = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
