import Contracts
import Foundation
import Kafka
import KafkaTestSupport
import NIOConcurrencyHelpers
@testable import Outbox
import PostgresNIO
import TestSupport
import Testing

/// The relay skips the published prefix of the outbox (its publish floor) on real Postgres and
/// Tansu: a row that commits late below published rows, and a requeued row, still go out.
@Suite("Outbox relay: publish floor")
struct PublishFloorRelayTests {
    @Test("a row drawn first but committed after later rows were published is still published")
    func lateCommitBelowPublishedRows() async throws {
        try await OutboxTestKit.withSchema { schema in
            let (topic, relay, consumer) = try await Self.relayAndConsumer(on: schema, named: "late")
            let late = try OutboxTestKit.event(note: "late")
            let lateID = late.id.uuidString.lowercased()
            let received = try await OutboxTestKit.running({ try await relay.run() }) {
                // Draws the lowest id of the test and holds its transaction open.
                let straggler = try await HeldAppend.start(OutboxMessage(late, topic: topic), on: schema)
                defer { straggler.abandon() }
                // Two rounds of later rows, each published before the next: the relay fetches
                // and advances its floor several times while the straggler's id is still open.
                for round in 0..<2 {
                    try await schema.append(try (0..<10).map { OutboxMessage(try OutboxTestKit.event(note: "r\(round)-\($0)"), topic: topic) })
                    try await Poll.until("round \(round) was published") {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL") == 10 * (round + 1)
                    }
                }
                #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE message_id = '\(lateID)'") == 0,
                        "the straggler's row is not visible before it commits")
                try await straggler.commit()
                try await Poll.until("the straggler's row was published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                return try await OrderCheck.collect(consumer) { received in
                    received.contains { $0.headers.text(for: "ce_id")?.lowercased() == lateID }
                }
            }
            await consumer.close()
            #expect(received.count == 21, "20 later rows, then the straggler")
        }
    }

    @Test("a lone batch, with nothing after it: the floor still passes it (readings of the relay's own settle the batch's)")
    func floorPassesALoneBatch() async throws {
        try await OutboxTestKit.withSchema { schema in
            let (topic, relay) = try await Self.relay(on: schema, named: "lone")
            try await OutboxTestKit.running({ try await relay.run() }) {
                try await schema.append(try (0..<5).map { OutboxMessage(try OutboxTestKit.event(note: "lone-\($0)"), topic: topic) })
                try await Poll.until("the batch was published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL") == 5
                }
                let last = try await schema.count("SELECT max(id) FROM $schema.outbox")
                // Every later fetch finds nothing and so carries no reading: only the relay's own
                // readings can settle the batch's.
                try await Poll.until("the floor passed the batch") { relay.publishFloor >= Int64(last) }
            }
        }
    }

    @Test("the only open transaction draws an id; a later row is published; nothing else commits while the relay keeps taking readings; the open row is not passed, and is published once it commits")
    func lateCommitOnAQuietDatabase() async throws {
        // (Run alone, nothing commits after the later row's mark while the straggler is open;
        // other tests' commits in the same cluster can hide a wrong floor here, never fake a
        // right one.)
        try await OutboxTestKit.withSchema { schema in
            let (topic, relay, consumer) = try await Self.relayAndConsumer(on: schema, named: "quiet")
            let late = try OutboxTestKit.event(note: "quiet")
            let lateID = late.id.uuidString.lowercased()
            let received = try await OutboxTestKit.running({ try await relay.run() }) {
                try await Poll.until("the relay leads") { relay.isLeader }
                let relayBackend = try await schema.count("""
                    SELECT pid::int8 FROM pg_locks WHERE locktype = 'advisory' AND granted
                      AND ((classid::int8 << 32) | objid::int8) = hashtextextended('orderflow.outbox.$schema', 0)
                    """)
                let straggler = try await HeldAppend.start(OutboxMessage(late, topic: topic), on: schema)
                defer { straggler.abandon() }
                // A row drawn after the straggler's, committed and published: its reading (the last
                // id drawn, above the straggler's) is witnessed by the mark and waits to settle.
                try await schema.append([OutboxMessage(try OutboxTestKit.event(note: "after"), topic: topic)])
                try await Poll.until("the later row was published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL") == 1
                }
                // Fetches the relay then makes, by their start times (the fetch is the last
                // statement before the relay waits, so it is what pg_stat_activity shows). Each
                // fetch after the first empty one takes a reading of its own first, since the later
                // row's reading waits to settle: four fetches mean at least three such readings.
                let publishedAt = try await schema.count("SELECT (extract(epoch FROM clock_timestamp()) * 1000000)::int8")
                let fetches = NIOLockedValueBox(Set<Int>())
                try await Poll.until("the relay fetched four times while the straggler was open") {
                    let started = try await schema.count("""
                        SELECT (extract(epoch FROM query_start) * 1000000)::int8 FROM pg_stat_activity
                        WHERE pid = \(relayBackend) AND query LIKE '%pg_snapshot_xmin%' AND query LIKE '%published_at IS NULL%'
                        """)
                    if started > publishedAt { fetches.withLockedValue { _ = $0.insert(started) } }
                    return fetches.withLockedValue { $0.count } >= 4
                }
                #expect(relay.publishFloor < straggler.rowID, "the floor passed an id whose transaction is still open")
                try await straggler.commit()
                try await Poll.until("the straggler's row was published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL") == 2
                }
                return try await OrderCheck.collect(consumer) { received in
                    received.contains { $0.headers.text(for: "ce_id")?.lowercased() == lateID }
                }
            }
            await consumer.close()
            #expect(received.count == 2)
        }
    }

    @Test("a requeued message goes out again with the same ce_id after the floor has passed it")
    func requeueBelowTheFloor() async throws {
        try await OutboxTestKit.withSchema { schema in
            let (topic, relay, consumer) = try await Self.relayAndConsumer(on: schema, named: "requeue")
            let first = try OutboxTestKit.event(note: "first")
            let firstID = first.id.uuidString.lowercased()
            let outbox = try schema.outbox
            let received = try await OutboxTestKit.running({ try await relay.run() }) {
                try await schema.append([OutboxMessage(first, topic: topic)])
                for round in 0..<2 {
                    try await schema.append(try (0..<5).map { OutboxMessage(try OutboxTestKit.event(note: "r\(round)-\($0)"), topic: topic) })
                    try await Poll.until("round \(round) was published") {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NOT NULL") == 1 + 5 * (round + 1)
                    }
                }
                let firstRow = try await schema.count("SELECT id FROM $schema.outbox WHERE message_id = '\(firstID)'")
                try await Poll.until("the floor passed the first row") { relay.publishFloor >= Int64(firstRow) }
                let requeued = try await schema.client.withTransaction(logger: OutboxTestKit.logger) { connection in
                    try await outbox.requeue(messageID: first.id, on: connection, logger: OutboxTestKit.logger)
                }
                #expect(requeued)
                let unknown = try await schema.client.withTransaction(logger: OutboxTestKit.logger) { connection in
                    try await outbox.requeue(messageID: UUID(), on: connection, logger: OutboxTestKit.logger)
                }
                #expect(!unknown, "requeue says when there is no such row")
                try await Poll.until("the requeued row was published again") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                let received = try await OrderCheck.collect(consumer) { received in
                    received.filter { $0.headers.text(for: "ce_id")?.lowercased() == firstID }.count == 2
                }
                // A row not yet published stays where it is (moving it would reorder its key).
                let pending = try OutboxTestKit.event(note: "pending")
                let kept = try await schema.client.withTransaction(logger: OutboxTestKit.logger) { connection in
                    try await outbox.append(OutboxMessage(pending, topic: topic), on: connection, logger: OutboxTestKit.logger)
                    let before = try await Self.rowID(of: pending.id, in: schema.name, on: connection)
                    let requeued = try await outbox.requeue(messageID: pending.id, on: connection, logger: OutboxTestKit.logger)
                    return (requeued, before, try await Self.rowID(of: pending.id, in: schema.name, on: connection))
                }
                #expect(kept.0, "an unpublished row counts as requeued")
                #expect(kept.1 != nil && kept.1 == kept.2, "an unpublished row keeps its id: \(String(describing: kept.1)) → \(String(describing: kept.2))")
                return received
            }
            await consumer.close()
            #expect(received.count == 12, "the first message, ten others, the first again")
            #expect(received.last?.headers.text(for: "ce_id")?.lowercased() == firstID)
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.outbox") == 12, "the row moved, it was not copied; plus the pending one")
        }
    }

    /// The outbox row id of a message, read on `connection` (so inside its transaction).
    static func rowID(of messageID: UUID, in schema: String, on connection: PostgresConnection) async throws -> Int64? {
        let rows = try await connection.query(
            "SELECT id FROM \(unescaped: schema).outbox WHERE message_id = \(messageID)", logger: OutboxTestKit.logger
        )
        for try await id in rows.decode(Int64.self) { return id }
        return nil
    }

    /// A relay for `schema` and a fresh one-partition topic.
    private static func relay(on schema: TestSchema, named name: String) async throws -> (String, OutboxRelay) {
        let topic = try await OutboxTestKit.topic("relay-\(name)")
        let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                    settings: OutboxTestKit.relaySettings, logger: OutboxTestKit.logger)
        return (topic, relay)
    }

    /// ``relay(on:named:)``, and a consumer of the topic in a group of its own.
    private static func relayAndConsumer(on schema: TestSchema, named name: String) async throws -> (String, OutboxRelay, KafkaConsumer) {
        let (topic, relay) = try await relay(on: schema, named: name)
        let consumer = try KafkaConsumer(configuration: try OutboxTestKit.kafka(), groupID: "test-\(name)-\(UUID().uuidString.prefix(8))",
                                         topics: [topic], logger: OutboxTestKit.logger)
        return (topic, relay, consumer)
    }
}

/// A transaction that appends one message and stays open until ``commit()``: the row's id is
/// drawn, the row itself invisible to everyone else.
private final class HeldAppend: Sendable {
    let rowID: Int64
    private let release: AsyncStream<Void>.Continuation
    private let transaction: Task<Void, any Error>

    private init(rowID: Int64, release: AsyncStream<Void>.Continuation, transaction: Task<Void, any Error>) {
        self.rowID = rowID
        self.release = release
        self.transaction = transaction
    }

    static func start(_ message: OutboxMessage, on schema: TestSchema) async throws -> HeldAppend {
        let outbox = try schema.outbox
        let drawn = NIOLockedValueBox<Int64?>(nil)
        let (commit, release) = AsyncStream.makeStream(of: Void.self)
        let transaction = Task {
            try await schema.client.withTransaction(logger: OutboxTestKit.logger) { connection in
                try await outbox.append(message, on: connection, logger: OutboxTestKit.logger)
                let id = try await PublishFloorRelayTests.rowID(of: message.id, in: schema.name, on: connection)
                drawn.withLockedValue { $0 = id ?? -1 }
                for await _ in commit { break }
            }
        }
        do {
            try await Poll.until("the held transaction appended its row") { drawn.withLockedValue { $0 } != nil }
        } catch {
            release.finish()
            throw error
        }
        return HeldAppend(rowID: drawn.withLockedValue { $0 } ?? -1, release: release, transaction: transaction)
    }

    /// Commits the transaction.
    func commit() async throws {
        release.yield()
        try await transaction.value
    }

    /// Lets the transaction end (commit) without waiting; for clean-up on failure.
    func abandon() { release.finish() }
}
