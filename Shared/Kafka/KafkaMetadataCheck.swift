import CRdKafka
import NIOPosix
public import ServiceKit

/// Readiness probe for Kafka: asks the cluster for its broker metadata.
///
/// Holds one librdkafka client handle for the life of the service. librdkafka handles are
/// thread-safe, and the blocking metadata call runs on NIO's blocking thread pool, never on
/// Swift's cooperative pool.
public final class KafkaMetadataCheck: DependencyCheck, @unchecked Sendable {
    // @unchecked: `handle` is an immutable pointer to a thread-safe librdkafka client.
    public let name = "kafka"
    private let handle: OpaquePointer
    private let requestTimeoutMs: Int32

    /// Creates the client handle; throws when librdkafka rejects the configuration.
    public init(settings: KafkaSettings, requestTimeout: Duration = .milliseconds(1500)) throws(KafkaError) {
        guard let conf = rd_kafka_conf_new() else { throw KafkaError(code: "_CONF", message: "cannot allocate configuration") }
        let properties = [
            "bootstrap.servers": settings.brokers.joined(separator: ","),
            "client.id": "orderflow-readiness",
            // The probe reports failures itself; keep librdkafka's own connection chatter out of the logs.
            "log_level": "0",
            "reconnect.backoff.max.ms": "1000",
        ]
        var errorBuffer = [CChar](repeating: 0, count: 512)
        for (key, value) in properties where rd_kafka_conf_set(conf, key, value, &errorBuffer, errorBuffer.count) != RD_KAFKA_CONF_OK {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: "_CONF", message: String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        guard let handle = rd_kafka_new(RD_KAFKA_PRODUCER, conf, &errorBuffer, errorBuffer.count) else {
            rd_kafka_conf_destroy(conf)
            throw KafkaError(code: "_CREATE", message: String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        self.handle = handle
        self.requestTimeoutMs = Int32(clamping: requestTimeout.milliseconds)
    }

    deinit {
        rd_kafka_destroy(handle)
    }

    public func check() async throws {
        try await NIOThreadPool.singleton.runIfActive { [self] in
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let error = rd_kafka_metadata(self.handle, 0, nil, &metadata, self.requestTimeoutMs)
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else {
                throw KafkaError(code: String(cString: rd_kafka_err2name(error)), message: String(cString: rd_kafka_err2str(error)))
            }
            guard let metadata, metadata.pointee.broker_cnt > 0 else {
                throw KafkaError(code: "_NO_BROKERS", message: "the cluster reported no brokers")
            }
        }
    }
}
