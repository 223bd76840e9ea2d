import CRdKafka
import Logging
import NIOPosix
public import ServiceKit

/// Readiness probe for Kafka: asks the cluster for its broker metadata.
///
/// Holds one librdkafka client handle for the life of the service; the blocking metadata call
/// runs on NIO's blocking thread pool, never on Swift's cooperative pool.
public final class KafkaMetadataCheck: DependencyCheck, Sendable {
    public let name = "kafka"
    private let handle: SendableHandle
    private let events: ClientEvents
    private let requestTimeoutMs: Int32

    /// Creates the client handle; throws when librdkafka rejects the configuration.
    public init(settings: KafkaSettings, requestTimeout: Duration = .milliseconds(1500)) throws(KafkaError) {
        let configuration = KafkaConfiguration(brokers: settings.brokers, properties: [
            "client.id": "orderflow-readiness",
            // The probe reports failures itself; keep librdkafka's connection chatter out of the logs.
            "log_level": "0",
            "reconnect.backoff.max.ms": "1000",
        ])
        // Transport errors while the cluster is down are what the probe reports; log only worse.
        var logger = Logger(label: "kafka-readiness")
        logger.logLevel = .error
        let events = ClientEvents(logger: logger)
        self.handle = SendableHandle(pointer: try configuration.makeHandle(RD_KAFKA_PRODUCER, events: events))
        self.events = events
        self.requestTimeoutMs = Int32(clamping: requestTimeout.milliseconds)
    }

    deinit {
        rd_kafka_destroy(handle.pointer)
    }

    public func check() async throws {
        let handle = self.handle
        let timeout = self.requestTimeoutMs
        try await NIOThreadPool.singleton.runIfActive {
            var metadata: UnsafePointer<rd_kafka_metadata>?
            let error = rd_kafka_metadata(handle.pointer, 0, nil, &metadata, timeout)
            defer { if let metadata { rd_kafka_metadata_destroy(metadata) } }
            guard error == RD_KAFKA_RESP_ERR_NO_ERROR else { throw KafkaError(error) }
            guard let metadata, metadata.pointee.broker_cnt > 0 else {
                throw KafkaError(code: "_NO_BROKERS", message: "the cluster reported no brokers")
            }
        }
    }
}
