import Contracts
import Foundation
import Kafka
import KafkaTestSupport
import Logging
import Outbox
import PostgresNIO
import ServiceKit
import TestSupport
import Testing

/// Shared set-up for the backbone's integration tests: a throwaway schema with the messaging
/// tables on the real Postgres, fresh topics on the real broker.
enum OutboxTestKit {
    /// Logs to standard error whatever the process-wide logging bootstrap (other suites set it
    /// to critical-only JSON), so a failing backbone test shows what the relay and inbox did.
    static let logger: Logger = {
        var logger = Logger(label: "outbox-tests") { StreamLogHandler.standardError(label: $0) }
        logger.logLevel = .info
        return logger
    }()

    /// A schema of its own (created by the superuser, dropped afterwards) with the messaging
    /// tables applied, and a running pool for it; on the shared stack's Postgres, or on the one
    /// `adminURL` names (a ``PrivateStack``'s).
    static func withSchema<T: Sendable>(adminURL: String? = nil, _ body: @Sendable (TestSchema) async throws -> T) async throws -> T {
        guard let url = DatabaseURL(try adminURL ?? StackEnvironment.value("ORDERFLOW_ADMIN_DATABASE_URL")) else {
            throw Poll.TimedOut(what: "a valid ORDERFLOW_ADMIN_DATABASE_URL")
        }
        let name = "t_" + UUID().uuidString.prefix(8).lowercased()
        let client = PostgresClient(configuration: url.clientConfiguration(maximumConnections: 12), backgroundLogger: logger)
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask {
                await client.run()
                return nil
            }
            defer { group.cancelAll() }
            try await client.query("CREATE SCHEMA \(unescaped: name)", logger: logger)
            let schema = TestSchema(name: name, url: url, client: client)
            do {
                let runner = try MigrationRunner(schema: name, migrations: MessagingTables.migrations(schema: name))
                _ = try await runner.run(on: client, logger: logger)
                try await client.query("CREATE TABLE \(unescaped: name).effects (handled bigserial, message_id uuid NOT NULL, note text NOT NULL)", logger: logger)
                let result = try await body(schema)
                _ = try? await client.query("DROP SCHEMA \(unescaped: name) CASCADE", logger: logger)
                return result
            } catch {
                _ = try? await client.query("DROP SCHEMA \(unescaped: name) CASCADE", logger: logger)
                throw error
            }
        }
    }

    static func brokers() throws -> [String] { try KafkaTesting.brokers() }

    static func kafka(brokers: [String]? = nil) throws -> KafkaConfiguration {
        try KafkaTesting.configuration(brokers: brokers)
    }

    /// The record that sends `event` to `topic` as the relay would, with the key (and partition)
    /// the test chooses.
    static func record(_ event: CloudEvent, topic: String, key: String = "k", partition: Int32? = nil) -> ProducerRecord {
        var record = OutboxMessage(event, topic: topic).record
        record.key = Array(key.utf8)
        record.partition = partition
        return record
    }

    /// A fresh topic.
    static func topic(_ prefix: String, partitions: Int = 1, brokers: [String]? = nil) async throws -> String {
        let name = "test.\(prefix).\(UUID().uuidString.prefix(8).lowercased())"
        let admin = try KafkaAdmin(configuration: try kafka(brokers: brokers), logger: logger)
        try await admin.createTopics([name], partitions: partitions)
        return name
    }

    /// Relay settings that make tests quick: small batches, fast polling and take-over.
    static let relaySettings = OutboxRelaySettings(
        batchSize: 100, pollInterval: .milliseconds(200), leaderRetry: .milliseconds(300), metricsInterval: .milliseconds(200)
    )

    /// A `UserRegistered` event (any contract type would do) with a fresh id.
    static func event(note: String, id: UUID = .v7(), key: UUID = .v7()) throws -> CloudEvent {
        let message = UserRegistered(userID: key, email: "\(note)@example.test", displayName: note, registeredAt: Date())
        return try CloudEvent(message, source: "tests", id: id)
    }

    /// Runs `body` with `service` running in the background; cancels it afterwards.
    static func running<T: Sendable>(
        _ service: @escaping @Sendable () async throws -> Void, _ body: @Sendable () async throws -> T
    ) async throws -> T {
        let task = Task { try await service() }
        defer { task.cancel() }
        let result = try await body()
        task.cancel()
        _ = await task.result
        return result
    }

    /// Records one row in `<schema>.effects` per handled `UserRegistered`, `note` = display name.
    static func effectHandlers(schema: String, before: (@Sendable (UserRegistered) throws -> Void)? = nil) -> MessageHandlers {
        var handlers = MessageHandlers()
        handlers.on(UserRegistered.self) { message, context in
            try before?(message)
            try await context.connection.query(
                "INSERT INTO \(unescaped: schema).effects (message_id, note) VALUES (\(context.event.id), \(message.displayName))",
                logger: context.logger
            )
        }
        return handlers
    }
}

/// A schema created for one test.
struct TestSchema: Sendable {
    let name: String
    let url: DatabaseURL
    let client: PostgresClient

    var outbox: Outbox {
        get throws { try Outbox(schema: name, source: "tests") }
    }

    /// Runs a query returning one integer.
    func count(_ sql: String) async throws -> Int {
        let rows = try await client.query(PostgresQuery(unsafeSQL: sql.replacingOccurrences(of: "$schema", with: name)), logger: OutboxTestKit.logger)
        for try await value in rows.decode(Int.self) { return value }
        return 0
    }

    /// The effects' notes matching `pattern`, in the order they were handled.
    func notes(like pattern: String) async throws -> [String] {
        let rows = try await client.query(
            "SELECT note FROM \(unescaped: name).effects WHERE note LIKE \(pattern) ORDER BY handled", logger: OutboxTestKit.logger
        )
        var notes: [String] = []
        for try await note in rows.decode(String.self) { notes.append(note) }
        return notes
    }

    /// Appends messages, each in its own transaction.
    func append(_ messages: [OutboxMessage]) async throws {
        let outbox = try self.outbox
        for message in messages {
            try await client.withTransaction(logger: OutboxTestKit.logger) { connection in
                try await outbox.append(message, on: connection, logger: OutboxTestKit.logger)
            }
        }
    }

    func inbox(name: String, topic: String, handlers: MessageHandlers, producer: KafkaProducer, brokers: [String]? = nil) throws -> InboxConsumer {
        InboxConsumer(
            name: name, client: client, outbox: try outbox, kafka: try OutboxTestKit.kafka(brokers: brokers), topics: [topic],
            handlers: handlers, deadLetters: producer, retry: RetryPolicy(initial: .milliseconds(50), maximum: .milliseconds(500)),
            groupID: "test-\(name)-\(UUID().uuidString.prefix(8).lowercased())", logger: OutboxTestKit.logger
        )
    }
}
