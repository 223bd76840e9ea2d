import Contracts
import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import Outbox
import PostgresNIO
import ServiceKit

/// A throwaway schema with the messaging tables, a pool, and a fresh topic.
struct BenchSchema: Sendable {
    let schema: String
    let url: DatabaseURL
    let client: PostgresClient
    let kafka: KafkaConfiguration
    let topic: String

    static func with(url: DatabaseURL, brokers: [String], _ body: @Sendable (BenchSchema) async throws -> Void) async throws {
        let logger = RelayBench.logger
        let suffix = UUID().uuidString.prefix(8).lowercased()
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 20), backgroundLogger: logger)
        let bench = BenchSchema(schema: "bench_\(suffix)", url: url, client: client,
                                kafka: KafkaConfiguration(brokers: brokers), topic: "bench.relay.\(suffix)")
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            try await client.query("CREATE SCHEMA \(unescaped: bench.schema)", logger: logger)
            _ = try await MigrationRunner(schema: bench.schema, migrations: MessagingTables.migrations(schema: bench.schema))
                .run(on: client, logger: logger)
            try await KafkaAdmin(configuration: bench.kafka, logger: logger).createTopics([bench.topic], partitions: 6)
            do {
                try await body(bench)
            } catch {
                _ = try? await client.query("DROP SCHEMA \(unescaped: bench.schema) CASCADE", logger: logger)
                throw error
            }
            try await client.query("DROP SCHEMA \(unescaped: bench.schema) CASCADE", logger: logger)
        }
    }

    /// A 300-byte CloudEvent-shaped message for aggregate `index % 100`.
    func message(_ index: Int) -> OutboxMessage {
        OutboxMessage(id: UUID.v7(), topic: topic, key: "key-\(index % 100)",
                      headers: [CloudEventHeader(name: "ce_type", value: "bench")],
                      payload: [UInt8](repeating: UInt8(ascii: "x"), count: 300))
    }

    /// The same message as a bare producer record.
    func record(_ index: Int) -> ProducerRecord {
        message(index).record
    }

    func unpublished() async throws -> Int {
        let rows = try await client.query("SELECT count(*)::int8 FROM \(unescaped: schema).outbox WHERE published_at IS NULL", logger: RelayBench.logger)
        for try await value in rows.decode(Int.self) { return value }
        return 0
    }
}

/// Latency samples, thread-safe.
final class Samples: Sendable {
    private let values = NIOLockedValueBox<[Int64]>([])

    func add(_ duration: Duration) { values.withLockedValue { $0.append(duration.microseconds) } }
    var count: Int { values.withLockedValue { $0.count } }

    func percentile(_ p: Double) -> Int64 {
        let sorted = values.withLockedValue { $0.sorted() }
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]
    }
}

/// Starts `count` operations at a fixed `rate` per second (each in its own task) and waits for all.
enum Pacer {
    static func run(rate: Int, count: Int, _ operation: @escaping @Sendable (Int) async throws -> Void) async throws {
        let clock = ContinuousClock()
        let start = clock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                let due = start + .microseconds(Int64(index) * 1_000_000 / Int64(rate))
                if due > clock.now { try await clock.sleep(until: due) }
                group.addTask { try await operation(index) }
            }
            try await group.waitForAll()
        }
    }
}
