import Contracts
import Foundation
import Kafka
import KafkaTestSupport
import Logging
import NIOConcurrencyHelpers
import Outbox
import PostgresNIO
import TestSupport
import Testing

/// A row the relay cannot publish holds back everything after it, so its key never arrives out
/// of order (PublishPipeline's barrier).
@Suite("Outbox relay barrier")
struct RelayBarrierTests {
    @Test(
        "a row librdkafka refuses holds back the rows after it, through retries; once it can be sent, its key arrives in order",
        arguments: [1, 100]
    )
    func refusedRowIsABarrier(batchSize: Int) async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-barrier")
            let key = UUID.v7().uuidString.lowercased()
            let ids = (1...3).map { _ in UUID.v7() }
            try await schema.append(ids.enumerated().map { index, id in
                OutboxMessage(id: id, topic: topic, key: key, headers: [CloudEventHeader(name: "message_id", value: id.uuidString)],
                              payload: Array(String(index + 1).utf8))
            })
            // The middle row as a row written around `Outbox.append`'s size check would be:
            // larger than librdkafka's message.max.bytes, so the producer refuses it.
            try await schema.client.query(
                "UPDATE \(unescaped: schema.name).outbox SET payload = decode(repeat('78', 1200000), 'hex') WHERE message_id = \(ids[1])",
                logger: OutboxTestKit.logger
            )
            let failures = RecordedLog()
            var settings = OutboxTestKit.relaySettings
            settings.batchSize = batchSize
            // No pause between attempts: the next fetch starts while the refused batch may still
            // be in flight, which is when a row behind it could slip out without the barrier.
            settings.failureBackoff = .zero
            let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                        settings: settings, logger: failures.logger)
            @Sendable func published(_ id: UUID) async throws -> Bool {
                try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL AND message_id = '\(id)'") == 1
            }
            try await OutboxTestKit.running({ try await relay.run() }) {
                try await Poll.until("the relay tried the refused row three times") {
                    failures.count(containing: "outbox rows failed to publish") >= 3
                }
                #expect(try await published(ids[0]), "the row before the refused one is published")
                #expect(try await !published(ids[1]))
                #expect(try await !published(ids[2]), "a row behind the refused one went out ahead of it")
                try await schema.client.query(
                    "UPDATE \(unescaped: schema.name).outbox SET payload = '2'::bytea WHERE message_id = \(ids[1])", logger: OutboxTestKit.logger
                )
                try await Poll.until("everything was published once the row could be sent") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
            }
            let consumer = try KafkaConsumer(configuration: try OutboxTestKit.kafka(), groupID: "test-barrier-\(UUID().uuidString.prefix(8))",
                                             topics: [topic], logger: OutboxTestKit.logger)
            let received = try await OrderCheck.collect(consumer) { received in
                Set(received.compactMap { $0.headers.text(for: "message_id") }).count == 3
            }
            await consumer.close()
            #expect(OrderCheck.sequencesByKey(received)[key] == [1, 2, 3], "the key arrived as \(OrderCheck.sequencesByKey(received))")
        }
    }
}

/// A logger that keeps every message (and still prints to standard error, as the other
/// backbone tests' logger does).
final class RecordedLog: Sendable {
    private let messages = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "outbox-tests") { [messages] label in
            MultiplexLogHandler([StreamLogHandler.standardError(label: label), Recording(messages: messages)])
        }
        logger.logLevel = .info
        return logger
    }

    /// How many messages contain `text`.
    func count(containing text: String) -> Int {
        messages.withLockedValue { $0.count { $0.contains(text) } }
    }

    private struct Recording: LogHandler {
        let messages: NIOLockedValueBox<[String]>
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            messages.withLockedValue { $0.append(event.message.description) }
        }
    }
}
