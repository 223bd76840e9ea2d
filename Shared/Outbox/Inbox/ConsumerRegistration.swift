import Contracts
public import Hummingbird
import Kafka
public import Logging
public import ServiceKit
import ServiceLifecycle

extension ServiceApplication {
    /// Adds an ``InboxConsumer`` named `name` for `topics`, with its own dead-letter producer.
    /// It starts once the service's migrations ran (it writes to `processed_messages`). Pass
    /// the same name in `dataService(consumers:)` so its dead-letter topic is created.
    public mutating func addConsumer(
        _ name: String, topics: [Topic], handlers: MessageHandlers, parts: DataServiceParts, logger: Logger
    ) throws {
        let deadLetters = try KafkaProducer(configuration: parts.messaging.kafka, logger: logger)
        let consumer = InboxConsumer(
            name: name, client: parts.database.client, outbox: parts.messaging.outbox, kafka: parts.messaging.consumerKafka,
            topics: topics.map(\.rawValue), handlers: handlers, deadLetters: deadLetters, logger: logger
        )
        addServices(deadLetters, GatedService(gate: parts.messaging.migrated, service: consumer))
    }
}

extension ServiceApplication {
    /// Adds `service` to run once the service's migrations ran (a scanner of its own tables, say).
    public mutating func addServiceAfterMigrations(_ service: any Service, parts: DataServiceParts) {
        addServices(GatedService(gate: parts.messaging.migrated, service: service))
    }
}

/// Runs `service` once `gate` opens (or not at all if shutdown comes first).
struct GatedService: Service {
    let gate: Latch
    let service: any Service

    func run() async throws {
        try? await cancelWhenGracefulShutdown { await gate.wait() }
        guard !Task.isCancelled, !Task.isShuttingDownGracefully else { return }
        try await service.run()
    }
}
