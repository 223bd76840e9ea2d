import Contracts
import Foundation
public import Kafka
public import Logging

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
        let endsAt = remaining
        let letters = try await withThrowingTaskGroup(of: [DeadLetter].self) { group in
            group.addTask {
                var letters: [DeadLetter] = []
                var remaining = endsAt
                for await message in consumer.messages {
                    if let letter = DeadLetter(message) { letters.append(letter) }
                    if let end = remaining[message.partition], message.offset + 1 >= end { remaining[message.partition] = nil }
                    if remaining.isEmpty { break }
                }
                return letters
            }
            group.addTask {
                try await Task.sleep(for: timeout)
                throw KafkaError(code: "_TIMED_OUT", message: "reading \(topic) did not finish within \(timeout)")
            }
            defer { group.cancelAll() }
            return try await group.next() ?? []
        }
        await consumer.close()
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
