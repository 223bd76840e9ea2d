import Contracts
import Foundation
import Kafka
import Logging
import NIOConcurrencyHelpers
import Outbox
import PostgresNIO
import ServiceKit

/// `relay-bench`: the outbox relay against a bare producer, same broker, same run.
///
///     RelayBench latency ADMIN_DATABASE_URL BROKERS RATE COUNT PGBENCH → relay and producer latency lines
///     RelayBench drain ADMIN_DATABASE_URL BROKERS COUNT BATCH    → drain rate, producer throughput
///
/// Latency: one message per transaction at RATE/s written by `pgbench` (another process);
/// commit → broker acknowledged (the relay's delivery callback), beside a bare producer's
/// send → acknowledged at the same rate.
/// Drain: COUNT rows already committed; relay start → all marked published, beside a bare
/// producer sending the same records in batches of BATCH. The producer is measured twice: with
/// the client's defaults (`linger.ms=5`) and with the relay's `linger.ms=1`.
@main
struct RelayBench {
    static let logger: Logger = {
        var logger = Logger(label: "relay-bench")
        logger.logLevel = .error
        return logger
    }()

    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 5, let url = DatabaseURL(args[2]) else { usage() }
        let brokers = args[3].split(separator: ",").map(String.init)
        switch args[1] {
        case "latency" where args.count == 7:
            guard let rate = Int(args[4]), let count = Int(args[5]) else { usage() }
            try await BenchSchema.with(url: url, brokers: brokers) { bench in
                let producer = try await producerLatency(bench, rate: rate, count: count, properties: [:])
                let lingerOne = try await producerLatency(bench, rate: rate, count: count, properties: ["linger.ms": "1"])
                let relay = try await relayLatency(bench, rate: rate, count: count, pgbench: args[6], databaseURI: args[2])
                print("producer_latency samples=\(producer.count) p50_us=\(producer.percentile(0.5)) p99_us=\(producer.percentile(0.99))")
                print("producer_linger1_latency samples=\(lingerOne.count) p50_us=\(lingerOne.percentile(0.5)) p99_us=\(lingerOne.percentile(0.99))")
                print("relay_latency samples=\(relay.count) p50_us=\(relay.percentile(0.5)) p99_us=\(relay.percentile(0.99)) p90_us=\(relay.percentile(0.9)) p999_us=\(relay.percentile(0.999))")
            }
        case "drain" where args.count == 6:
            guard let count = Int(args[4]), let batch = Int(args[5]) else { usage() }
            try await BenchSchema.with(url: url, brokers: brokers) { bench in
                let producer = try await producerThroughput(bench, count: count, batch: batch)
                let relay = try await relayDrain(bench, count: count, batch: batch)
                print(String(format: "producer_throughput msgs_per_sec=%.0f", producer))
                print(String(format: "relay_drain events_per_sec=%.0f", relay))
            }
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: RelayBench latency|drain ADMIN_DATABASE_URL BROKERS (RATE COUNT PGBENCH | COUNT BATCH)\n".utf8))
        exit(2)
    }

    static func producerLatency(_ bench: BenchSchema, rate: Int, count: Int, properties: [String: String]) async throws -> Samples {
        var configuration = bench.kafka
        configuration.properties.merge(properties) { _, new in new }
        let producer = try KafkaProducer(configuration: configuration, logger: logger)
        let samples = Samples()
        let clock = ContinuousClock()
        try await Pacer.run(rate: rate, count: count) { index in
            let started = clock.now
            _ = try await producer.send(bench.record(index))
            samples.add(clock.now - started)
        }
        await producer.close()
        return samples
    }

    /// Commit → broker-acknowledged latency of the relay, with the writes made by `pgbench` in its
    /// own process (one autocommit `INSERT` per transaction at `rate`/s over 4 connections), so
    /// the writer's work does not share this process's threads with the relay. Commit time is the
    /// row's `created_at` (`clock_timestamp()` of the insert, microseconds before its commit);
    /// delivery time is the wall clock when the relay's delivery callback ran.
    static func relayLatency(_ bench: BenchSchema, rate: Int, count: Int, pgbench: String, databaseURI: String) async throws -> Samples {
        let deliveredAt = NIOLockedValueBox([UUID: Int64]())
        let relay = try OutboxRelay(schema: bench.schema, database: bench.url, kafka: bench.kafka, onDelivered: { ids in
            let now = wallClockMicros()
            deliveredAt.withLockedValue { delivered in for id in ids { delivered[id] = now } }
        }, logger: logger)
        let relayTask = Task { try await relay.run() }
        while !relay.isLeader { try await Task.sleep(for: .milliseconds(20)) }

        let script = FileManager.default.temporaryDirectory.appendingPathComponent("relay-bench-\(bench.schema).sql")
        try """
            INSERT INTO \(bench.schema).outbox (message_id, topic, message_key, headers, payload) VALUES (gen_random_uuid(), '\(bench.topic)', 'key-' || (random() * 99)::int, '[["ce_type","bench"]]', convert_to(repeat('x', 300), 'UTF8'));

            """.write(to: script, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: script) }
        let clients = 4
        try await runProcess(pgbench, [
            "-n", "-R", String(rate), "-t", String(count / clients), "-c", String(clients), "-j", "2", "-f", script.path, databaseURI,
        ])
        let expected = (count / clients) * clients
        while deliveredAt.withLockedValue({ $0.count }) < expected { try await Task.sleep(for: .milliseconds(20)) }
        relayTask.cancel()
        _ = await relayTask.result

        let samples = Samples()
        let delivered = deliveredAt.withLockedValue { $0 }
        let rows = try await bench.client.query(
            "SELECT message_id, (extract(epoch FROM created_at) * 1000000)::int8 FROM \(unescaped: bench.schema).outbox", logger: logger
        )
        for try await (id, createdMicros) in rows.decode((UUID, Int64).self) {
            if let at = delivered[id] { samples.add(.microseconds(max(0, at - createdMicros))) }
        }
        return samples
    }

    /// Runs a program to completion (without blocking Swift's threads); throws on a non-zero exit.
    static func runProcess(_ path: String, _ arguments: [String]) async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        let status: Int32 = try await withCheckedThrowingContinuation { continuation in
            process.terminationHandler = { continuation.resume(returning: $0.terminationStatus) }
            do { try process.run() } catch { continuation.resume(throwing: error) }
        }
        guard status == 0 else { throw ProcessFailed(path: path, status: status) }
    }

    struct ProcessFailed: Error, CustomStringConvertible {
        let path: String
        let status: Int32
        var description: String { "\(path) exited with status \(status)" }
    }

    static func wallClockMicros() -> Int64 {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Int64(now.tv_sec) * 1_000_000 + Int64(now.tv_nsec) / 1_000
    }

    static func producerThroughput(_ bench: BenchSchema, count: Int, batch: Int) async throws -> Double {
        let producer = try KafkaProducer(configuration: bench.kafka, logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        while sent < count {
            let n = min(batch, count - sent)
            _ = try await producer.send((sent..<sent + n).map { bench.record($0) })
            sent += n
        }
        let rate = Double(count) / (clock.now - start).seconds
        await producer.close()
        return rate
    }

    static func relayDrain(_ bench: BenchSchema, count: Int, batch: Int) async throws -> Double {
        try await bench.client.query("""
            INSERT INTO \(unescaped: bench.schema).outbox (message_id, topic, message_key, headers, payload)
            SELECT gen_random_uuid(), \(bench.topic), 'key-' || (i % 100), '[["ce_type","bench"]]'::jsonb, convert_to(repeat('x', 300), 'UTF8')
            FROM generate_series(1, \(count)) AS i
            """, logger: logger)
        let relay = try OutboxRelay(schema: bench.schema, database: bench.url, kafka: bench.kafka,
                                    settings: OutboxRelaySettings(batchSize: batch), logger: logger)
        let clock = ContinuousClock()
        let start = clock.now
        let relayTask = Task { try await relay.run() }
        while try await bench.unpublished() > 0 { try await Task.sleep(for: .milliseconds(20)) }
        let rate = Double(count) / (clock.now - start).seconds
        relayTask.cancel()
        _ = await relayTask.result
        return rate
    }
}

extension Duration {
    var seconds: Double { Double(components.seconds) + Double(components.attoseconds) / 1e18 }
    var microseconds: Int64 { components.seconds * 1_000_000 + components.attoseconds / 1_000_000_000_000 }
}
