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
///     RelayBench latency ADMIN_DATABASE_URL BROKERS RATE COUNT   → relay and producer latency lines
///     RelayBench drain ADMIN_DATABASE_URL BROKERS COUNT BATCH    → drain rate, producer throughput
///
/// Latency: one message per transaction at RATE/s; commit returned → broker acknowledged (the
/// relay's delivery callback), beside a bare producer's send → acknowledged at the same rate.
/// Drain: COUNT rows already committed; relay start → all marked published, beside a bare
/// producer sending the same records in batches of BATCH.
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
        case "latency" where args.count == 6:
            guard let rate = Int(args[4]), let count = Int(args[5]) else { usage() }
            try await BenchSchema.with(url: url, brokers: brokers) { bench in
                let producer = try await producerLatency(bench, rate: rate, count: count)
                let relay = try await relayLatency(bench, rate: rate, count: count)
                print("producer_latency samples=\(producer.count) p50_us=\(producer.percentile(0.5)) p99_us=\(producer.percentile(0.99))")
                print("relay_latency samples=\(relay.count) p50_us=\(relay.percentile(0.5)) p99_us=\(relay.percentile(0.99))")
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
        FileHandle.standardError.write(Data("usage: RelayBench latency|drain ADMIN_DATABASE_URL BROKERS (RATE COUNT | COUNT BATCH)\n".utf8))
        exit(2)
    }

    static func producerLatency(_ bench: BenchSchema, rate: Int, count: Int) async throws -> Samples {
        let producer = try KafkaProducer(configuration: bench.kafka, logger: logger)
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

    static func relayLatency(_ bench: BenchSchema, rate: Int, count: Int) async throws -> Samples {
        // Commit instants by message id; ids the relay reported before the writer recorded them.
        let pending = NIOLockedValueBox((committed: [UUID: ContinuousClock.Instant](), early: Set<UUID>()))
        let samples = Samples()
        let clock = ContinuousClock()
        let relay = try OutboxRelay(schema: bench.schema, database: bench.url, kafka: bench.kafka, onDelivered: { ids in
            let now = clock.now
            pending.withLockedValue { pending in
                for id in ids {
                    if let start = pending.committed.removeValue(forKey: id) { samples.add(now - start) } else { pending.early.insert(id) }
                }
            }
        }, logger: logger)
        let relayTask = Task { try await relay.run() }
        while !relay.isLeader { try await Task.sleep(for: .milliseconds(20)) }
        let outbox = try Outbox(schema: bench.schema, source: "bench")
        try await Pacer.run(rate: rate, count: count) { index in
            let message = bench.message(index)
            try await bench.client.withTransaction(logger: logger) { connection in
                try await outbox.append(message, on: connection, logger: logger)
            }
            let now = clock.now
            pending.withLockedValue { pending in
                // The relay may report before this line runs: count that as zero.
                if pending.early.remove(message.id) != nil { samples.add(.zero) } else { pending.committed[message.id] = now }
            }
        }
        while samples.count < count { try await Task.sleep(for: .milliseconds(20)) }
        relayTask.cancel()
        _ = await relayTask.result
        return samples
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
