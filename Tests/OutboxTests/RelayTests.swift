import Contracts
import Foundation
import Kafka
import KafkaTestSupport
import NIOConcurrencyHelpers
import Outbox
import PostgresNIO
import TestSupport
import Testing

/// The relay on real Postgres and Tansu: order per key, crash recovery, leader fail-over.
@Suite("Outbox relay")
struct RelayTests {
    @Test("1,000 events over 10 aggregates, appended concurrently, arrive in per-aggregate order")
    func perAggregateOrder() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-order", partitions: 6)
            let aggregates = (0..<10).map { _ in UUID.v7() }
            try await schema.createCounters(aggregates)
            let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                        settings: OutboxTestKit.relaySettings, logger: OutboxTestKit.logger)
            let consumer = try KafkaConsumer(configuration: try OutboxTestKit.kafka(), groupID: "test-order-\(UUID().uuidString.prefix(8))",
                                             topics: [topic], logger: OutboxTestKit.logger)
            let received = try await OutboxTestKit.running({ try await relay.run() }) {
                try await withThrowingTaskGroup(of: Void.self) { writers in
                    for writer in 0..<20 {
                        writers.addTask {
                            for round in 0..<50 {
                                try await schema.appendNext(for: aggregates[(writer + round) % 10], topic: topic)
                            }
                        }
                    }
                    try await writers.waitForAll()
                }
                return try await OrderCheck.collect(consumer, count: 1_000)
            }
            await consumer.close()
            let sequences = OrderCheck.sequencesByKey(received)
            #expect(sequences.count == 10)
            for (key, sequence) in sequences {
                #expect(sequence == Array(1...100), "aggregate \(key) arrived as \(sequence.prefix(20))…")
            }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0)
        }
    }

    @Test("the leader prunes published outbox rows past OUTBOX_RETENTION_HOURS and inbox records past INBOX_RETENTION_HOURS, and nothing younger or unpublished")
    func pruning() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-prune")
            try await schema.append(try (0..<3).map { OutboxMessage(try OutboxTestKit.event(note: "p\($0)"), topic: topic) })
            let inbox = ["expired": "now() - interval '200 hours'", "recent": "now() - interval '100 hours'", "new": "now()"]
            for (note, at) in inbox {
                try await schema.client.query(PostgresQuery(unsafeSQL: """
                    INSERT INTO \(schema.name).processed_messages (consumer, message_id, message_type, processed_at)
                    VALUES ('\(note)', gen_random_uuid(), 'test', \(at))
                    """), logger: OutboxTestKit.logger)
            }
            var settings = OutboxTestKit.relaySettings
            settings.pruneInterval = .milliseconds(200)
            let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                        settings: settings, logger: OutboxTestKit.logger)
            try await OutboxTestKit.running({ try await relay.run() }) {
                try await Poll.until("the three rows are published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                // Two of them published long ago (the clock moved back by hand), one just now.
                _ = try await schema.count("""
                    WITH aged AS (UPDATE $schema.outbox SET published_at = now() - interval '25 hours'
                        WHERE id IN (SELECT id FROM $schema.outbox ORDER BY id LIMIT 2) RETURNING 1) SELECT count(*)::int8 FROM aged
                    """)
                try await Poll.until("the expired outbox rows and inbox record are pruned") {
                    let outbox = try await schema.count("SELECT count(*)::int8 FROM $schema.outbox")
                    let expired = try await schema.count("SELECT count(*)::int8 FROM $schema.processed_messages WHERE consumer = 'expired'")
                    return outbox == 1 && expired == 0
                }
            }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at > now() - interval '1 hour'") == 1)
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.processed_messages") == 2, "the recent and new inbox records stay")
        }
    }

    @Test("a pruning backlog longer than one pass is pruned over several passes, right after each other, while publishing goes on")
    func pruningBacklog() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-prune-backlog")
            // 1,000 expired inbox records; passes of 2 chunks of 100, and a prune interval of an
            // hour: only a pass that goes on after the next fetch can clear them all.
            try await schema.client.query(PostgresQuery(unsafeSQL: """
                INSERT INTO \(schema.name).processed_messages (consumer, message_id, message_type, processed_at)
                SELECT 'expired', gen_random_uuid(), 'test', now() - interval '200 hours' FROM generate_series(1, 1000)
                """), logger: OutboxTestKit.logger)
            var settings = OutboxTestKit.relaySettings
            settings.pruneInterval = .seconds(3_600)
            settings.pruneChunkRows = 100
            settings.pruneChunksPerPass = 2
            let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                        settings: settings, logger: OutboxTestKit.logger)
            try await OutboxTestKit.running({ try await relay.run() }) {
                try await schema.append([OutboxMessage(try OutboxTestKit.event(note: "during"), topic: topic)])
                try await Poll.until("the backlog is pruned and the new row published") {
                    let left = try await schema.count("SELECT count(*)::int8 FROM $schema.processed_messages WHERE consumer = 'expired'")
                    let unpublished = try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL")
                    return left == 0 && unpublished == 0
                }
            }
        }
    }

    @Test("a relay killed between produce and mark-published: the duplicate reaches consumers, the inbox absorbs it")
    func crashBetweenProduceAndMark() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-crash")
            let events = try (0..<50).map { try OutboxTestKit.event(note: "e\($0)") }
            let sentinel = try OutboxTestKit.event(note: "sentinel")
            let sentinelID = sentinel.id.uuidString.lowercased()
            try await schema.append(events.map { OutboxMessage($0, topic: topic) })
            let kafka = try OutboxTestKit.kafka()

            let crashing = try OutboxRelay(schema: schema.name, database: schema.url, kafka: kafka, settings: OutboxTestKit.relaySettings,
                                           fault: .crashAfterProduceBeforeMark, logger: OutboxTestKit.logger)
            await #expect(throws: OutboxRelayError.crashed) { try await crashing.run() }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 50)

            let survivor = try OutboxRelay(schema: schema.name, database: schema.url, kafka: kafka,
                                           settings: OutboxTestKit.relaySettings, logger: OutboxTestKit.logger)
            let producer = try KafkaProducer(configuration: kafka, logger: OutboxTestKit.logger)
            let inbox = try schema.inbox(name: "crash", topic: topic, handlers: OutboxTestKit.effectHandlers(schema: schema.name), producer: producer)
            try await OutboxTestKit.running({ try await survivor.run() }) {
                try await Poll.until("the survivor published the batch again") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                try await schema.append([OutboxMessage(sentinel, topic: topic)])
                // (Counted by reading, not from watermarks: Tansu reports a partition's high
                // watermark as its last record batch's base offset + 1.)
                let reader = try KafkaConsumer(configuration: kafka, groupID: "test-crash-raw-\(UUID().uuidString.prefix(8))",
                                               topics: [topic], logger: OutboxTestKit.logger)
                let raw = try await OrderCheck.collect(reader) { received in received.last?.headers.text(for: "ce_id")?.lowercased() == sentinelID }
                await reader.close()
                #expect(raw.count == 101, "both the crashed relay's and the survivor's copies are on the topic, then the sentinel")
                try await OutboxTestKit.running({ try await inbox.run() }) {
                    try await Poll.until("the sentinel (behind all duplicates) was handled") {
                        try await schema.count("SELECT count(*)::int8 FROM $schema.effects WHERE note = 'sentinel'") == 1
                    }
                }
            }
            #expect(try await schema.count("SELECT count(*)::int8 FROM $schema.effects") == 51)
            #expect(try await schema.count("SELECT count(DISTINCT message_id)::int8 FROM $schema.effects") == 51)
            await producer.close()
        }
    }

    @Test("two relays: only the leader publishes; when it dies the standby takes over; nothing lost or reordered")
    func failover() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-failover", partitions: 3)
            let aggregates = (0..<10).map { _ in UUID.v7() }
            try await schema.createCounters(aggregates)
            let kafka = try OutboxTestKit.kafka()
            let deliveredBy = NIOLockedValueBox([0, 0])
            let relays = try (0..<2).map { index in
                try OutboxRelay(schema: schema.name, database: schema.url, kafka: kafka, settings: OutboxTestKit.relaySettings,
                                onDelivered: { ids in deliveredBy.withLockedValue { $0[index] += ids.count } }, logger: OutboxTestKit.logger)
            }
            let tasks = relays.map { relay in Task { try await relay.run() } }
            defer { tasks.forEach { $0.cancel() } }
            try await Poll.until("one relay leads") { relays.contains { $0.isLeader } }
            let leader = relays[0].isLeader ? 0 : 1
            let standby = 1 - leader
            #expect(!relays[standby].isLeader)

            let total = 400
            let writer = Task {
                for round in 0..<total {
                    try await schema.appendNext(for: aggregates[round % 10], topic: topic)
                    if round % 20 == 0 { try await Task.sleep(for: .milliseconds(20)) }
                }
            }
            try await Poll.until("the leader published some") { deliveredBy.withLockedValue { $0[leader] } >= 50 }
            #expect(deliveredBy.withLockedValue { $0[standby] } == 0, "the standby published while the leader was alive")

            let clock = ContinuousClock()
            let killedAt = clock.now
            tasks[leader].cancel()
            // Typically 0.1–0.3 s. It took 9–17 s in full `make test` runs while `Script`'s
            // children inherited the relay's socket (ADR 0005); the deadline stays generous.
            try await Poll.until("the standby took over", deadline: .seconds(60)) { relays[standby].isLeader }
            let takeover = clock.now - killedAt
            print("relay take-over after the leader stopped: \(takeover)")
            _ = await tasks[leader].result
            print("the stopped leader's run() returned (its producer closed) after \(clock.now - killedAt)")
            try await writer.value
            try await Poll.until("everything was published") {
                try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
            }
            #expect(deliveredBy.withLockedValue { $0[standby] } > 0)

            let consumer = try KafkaConsumer(configuration: kafka, groupID: "test-failover-\(UUID().uuidString.prefix(8))",
                                             topics: [topic], logger: OutboxTestKit.logger)
            let received = try await OrderCheck.collect(consumer) { received in
                Set(received.compactMap { $0.headers.text(for: "message_id") }).count == total
            }
            await consumer.close()
            for (key, sequence) in OrderCheck.sequencesByKey(received, firstOccurrenceOnly: true) {
                #expect(sequence == Array(1...(total / 10)), "aggregate \(key) arrived as \(sequence.prefix(20))…")
            }
        }
    }
}

extension RelayTests {
    @Test("the leader's database connection killed: the relay reconnects, leads again, and keeps publishing")
    func connectionKilled() async throws {
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("relay-reconnect")
            let relay = try OutboxRelay(schema: schema.name, database: schema.url, kafka: try OutboxTestKit.kafka(),
                                        settings: OutboxTestKit.relaySettings, logger: OutboxTestKit.logger)
            try await OutboxTestKit.running({ try await relay.run() }) {
                try await schema.append(try (0..<20).map { OutboxMessage(try OutboxTestKit.event(note: "before-\($0)"), topic: topic) })
                try await Poll.until("the first rows were published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                // The backend holding this schema's relay lock (a bigint advisory lock: high and low halves).
                let killed = try await schema.count("""
                    SELECT count(pg_terminate_backend(pid))::int8 FROM pg_locks
                    WHERE locktype = 'advisory' AND granted
                      AND ((classid::int8 << 32) | objid::int8) = hashtextextended('orderflow.outbox.$schema', 0)
                    """)
                #expect(killed == 1)
                try await schema.append(try (0..<20).map { OutboxMessage(try OutboxTestKit.event(note: "after-\($0)"), topic: topic) })
                try await Poll.until("rows written after the kill were published") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
                }
                #expect(relay.isLeader)
            }
        }
    }
}

/// Per-aggregate sequences as the consumer saw them.
enum OrderCheck {
    static func collect(_ consumer: KafkaConsumer, count: Int) async throws -> [KafkaMessage] {
        try await KafkaTesting.collect(consumer, count: count, deadline: .seconds(90))
    }

    static func collect(_ consumer: KafkaConsumer, until isComplete: @escaping @Sendable ([KafkaMessage]) -> Bool) async throws -> [KafkaMessage] {
        try await KafkaTesting.collect(consumer, until: isComplete)
    }

    /// The payload numbers per key, in arrival order; duplicates (same `ce_id`/message id
    /// header) after their first arrival dropped when `firstOccurrenceOnly`.
    static func sequencesByKey(_ messages: [KafkaMessage], firstOccurrenceOnly: Bool = false) -> [String: [Int]] {
        var seen = Set<String>()
        var result: [String: [Int]] = [:]
        for message in messages {
            let id = message.headers.text(for: "message_id") ?? ""
            if firstOccurrenceOnly, !seen.insert(id).inserted { continue }
            result[message.keyText ?? "", default: []].append(Int(message.valueText ?? "") ?? -1)
        }
        return result
    }
}

extension TestSchema {
    func createCounters(_ aggregates: [UUID]) async throws {
        try await client.query("CREATE TABLE \(unescaped: name).counters (aggregate uuid PRIMARY KEY, n integer NOT NULL)", logger: OutboxTestKit.logger)
        for aggregate in aggregates {
            try await client.query("INSERT INTO \(unescaped: name).counters VALUES (\(aggregate), 0)", logger: OutboxTestKit.logger)
        }
    }

    /// One transaction: bump the aggregate's counter (locking it), then append its new value.
    func appendNext(for aggregate: UUID, topic: String) async throws {
        let outbox = try self.outbox
        let schema = name
        try await client.withTransaction(logger: OutboxTestKit.logger) { connection in
            let rows = try await connection.query(
                "UPDATE \(unescaped: schema).counters SET n = n + 1 WHERE aggregate = \(aggregate) RETURNING n", logger: OutboxTestKit.logger
            )
            var next = 0
            for try await value in rows.decode(Int.self) { next = value }
            let id = UUID.v7()
            try await outbox.append(OutboxMessage(
                id: id, topic: topic, key: aggregate.uuidString.lowercased(),
                headers: [CloudEventHeader(name: "message_id", value: id.uuidString)], payload: Array(String(next).utf8)
            ), on: connection, logger: OutboxTestKit.logger)
        }
    }
}

extension RelayTests {
    @Test("a standby whose connection stalls (its Postgres backend stopped) drops it after the statement limit, reconnects, and takes over when the leader goes",
          .timeLimit(.minutes(3)))
    func stalledStandby() async throws {
        // A Postgres of its own: a backend of the shared one left stopped would hang the others.
        try await PrivateStack.start("postgres").use { stack in
        try await OutboxTestKit.withSchema(adminURL: try stack.value("ORDERFLOW_ADMIN_DATABASE_URL")) { schema in
            let topic = try await OutboxTestKit.topic("relay-stalled-standby")
            var settings = OutboxTestKit.relaySettings
            settings.statementLimit = .seconds(2)
            let kafka = try OutboxTestKit.kafka()
            let relays = try (0..<2).map { _ in
                try OutboxRelay(schema: schema.name, database: schema.url, kafka: kafka, settings: settings, logger: OutboxTestKit.logger)
            }
            let leader = Task { try await relays[0].run() }
            try await Poll.until("the first relay leads") { relays[0].isLeader }
            let standby = Task { try await relays[1].run() }
            defer { leader.cancel(); standby.cancel() }
            @Sendable func stopBoth() async {
                leader.cancel()
                standby.cancel()
                _ = await leader.result
                _ = await standby.result
            }
            // The standby's backend: this schema's relay connection that holds no advisory lock.
            let found = NIOLockedValueBox(0)
            try await Poll.until("the standby's connection is open") {
                let pid = try await schema.count("""
                    SELECT COALESCE(max(pid), 0)::int8 FROM pg_stat_activity
                    WHERE application_name = 'orderflow-relay-\(schema.name)'
                      AND NOT EXISTS (SELECT FROM pg_locks l WHERE l.pid = pg_stat_activity.pid AND l.locktype = 'advisory' AND l.granted)
                    """)
                found.withLockedValue { $0 = pid }
                return pid != 0
            }
            let stopped = pid_t(found.withLockedValue { $0 })
            #expect(kill(stopped, SIGSTOP) == 0)
            defer { kill(stopped, SIGCONT) }
            // Its next lock attempt waits for ever on that connection, unless the watch drops it.
            leader.cancel()
            _ = await leader.result
            try await Poll.until("the standby took over in spite of its stalled connection", deadline: .seconds(30)) { relays[1].isLeader }
            kill(stopped, SIGCONT)
            try await schema.append([OutboxMessage(try OutboxTestKit.event(note: "after"), topic: topic)])
            try await Poll.until("the new leader publishes") {
                try await schema.count("SELECT count(*)::int8 FROM $schema.outbox WHERE published_at IS NULL") == 0
            }
            await stopBoth()
        }
        }
    }
}
