public import Instrumentation

/// Writes trace context (W3C `traceparent`, `tracestate`) into Kafka headers.
public struct KafkaHeadersInjector: Injector {
    public init() {}

    public func inject(_ value: String, forKey key: String, into carrier: inout [KafkaHeader]) {
        carrier.set(key, text: value)
    }
}

/// Reads trace context from Kafka headers.
public struct KafkaHeadersExtractor: Extractor {
    public init() {}

    public func extract(key: String, from carrier: [KafkaHeader]) -> String? {
        carrier.text(for: key)
    }
}
