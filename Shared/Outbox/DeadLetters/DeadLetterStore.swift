import Contracts
import Foundation
public import Kafka
public import Logging
import NIOConcurrencyHelpers

/// Lists and replays a consumer's dead letters (what `orderflow-dlq` runs).
public struct DeadLetterStore: Sendable {
    private let kafka: KafkaConfiguration
    private let logger: Logger

    /// Creates a store over the cluster `kafka` points at.
    public init(kafka: KafkaConfiguration, logger: Logger) {
        self.kafka = kafka
        self.logger = logger
    }

    /// Every message currently in `orderflow.<consumer>.dlq`, by partition then offset. Reads the
    /// topic from the start up to its high watermarks with a throwaway group (commits nothing).
    public func list(consumer: String, timeout: Duration = .seconds(60)) async throws -> [DeadLetter] {
        let topic = Topic.deadLetters(consumer: consumer).rawValue
        let admin = try KafkaAdmin(configuration: kafka, logger: logger)
        guard try await admin.listTopics().contains(topic) else { return [] }
        var remaining: [Int32: Int64] = [:]
        for marks in try await admin.watermarks(topic: topic) where marks.high > marks.low {
            remaining[marks.partition] = marks.high
        }
        guard !remaining.isEmpty else { return [] }
        var configuration = kafka
        configuration["enable.auto.commit"] = "false"
        configuration["auto.offset.reset"] = "earliest"
        let consumer = try KafkaConsumer(
            configuration: configuration, groupID: "orderflow-dlq-reader-\(UUID().uuidString.lowercased())",
            topics: [topic], logger: logger
        )
        // Tansu reports a partition's high watermark as its last record batch's base offset + 1,
        // so reaching the watermarks is not enough: keep reading until nothing arrived for a while.
        let collected = NIOLockedValueBox((letters: [DeadLetter](), remaining: remaining, lastArrival: ContinuousClock.now))
        let reader = Task {
            for await message in consumer.messages {
                collected.withLockedValue { state in
                    if let letter = DeadLetter(message) { state.letters.append(letter) }
                    if let end = state.remaining[message.partition], message.offset + 1 >= end { state.remaining[message.partition] = nil }
                    state.lastArrival = .now
                }
            }
        }
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while true {
            let (reachedEnd, quietFor) = collected.withLockedValue { ($0.remaining.isEmpty, clock.now - $0.lastArrival) }
            if reachedEnd, quietFor >= .milliseconds(750) { break }
            guard clock.now < deadline else {
                await consumer.close()
                throw KafkaError(code: "_TIMED_OUT", message: "reading \(topic) did not finish within \(timeout)")
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        await consumer.close()
        _ = await reader.value
        let letters = collected.withLockedValue { $0.letters }
        return letters.sorted { ($0.message.partition, $0.message.offset) < ($1.message.partition, $1.message.offset) }
    }

    /// Re-sends `letters` to their original topics, unchanged, and waits for the broker.
    public func replay(_ letters: [DeadLetter]) async throws -> [DeliveryReport] {
        let producer = try KafkaProducer(configuration: kafka, logger: logger)
        do {
            let reports = try await producer.send(letters.map(\.replayRecord))
            await producer.close()
            return reports
        } catch {
            await producer.close()
            throw error
        }
    }
}
