import CRdKafka

/// A librdkafka client handle that may cross concurrency domains.
///
/// `@unchecked Sendable`: librdkafka documents `rd_kafka_t` as thread-safe; the pointer itself is
/// immutable. Ownership (destroy) stays with the type that created it.
struct SendableHandle: @unchecked Sendable {
    let pointer: OpaquePointer
}
