import Foundation
import Kafka
import Logging

/// `kafka-bench`: measures OrderFlow's Kafka client the way `rdkafka_performance` measures
/// librdkafka itself, so `make bench-kafka` can print both side by side.
///
///     kafka-bench create-topic BROKERS TOPIC PARTITIONS
///     kafka-bench throughput BROKERS TOPIC COUNT SIZE      → "msgs_per_sec=…"
///     kafka-bench latency BROKERS TOPIC RATE COUNT SIZE    → "p50_us=… p99_us=… p999_us=…"
///
/// Producer properties match the reference run: acks=all, idempotence, linger.ms=5, lz4.
@main
struct KafkaBench {
    static let logger: Logger = {
        var logger = Logger(label: "kafka-bench")
        logger.logLevel = .error
        return logger
    }()

    static let producerProperties = [
        "acks": "all", "enable.idempotence": "true", "linger.ms": "5", "compression.type": "lz4",
    ]

    static func main() async throws {
        let args = CommandLine.arguments
        guard args.count >= 3 else { usage() }
        let brokers = args[2].split(separator: ",").map(String.init)
        switch args[1] {
        case "create-topic" where args.count == 5:
            let admin = try KafkaAdmin(configuration: KafkaConfiguration(brokers: brokers), logger: logger)
            try await admin.createTopics([args[3]], partitions: Int(args[4]) ?? 1)
        case "throughput" where args.count == 6:
            try await throughput(brokers: brokers, topic: args[3], count: Int(args[4]) ?? 0, size: Int(args[5]) ?? 300)
        case "latency" where args.count == 7:
            try await latency(brokers: brokers, topic: args[3], rate: Int(args[4]) ?? 1000, count: Int(args[5]) ?? 0, size: Int(args[6]) ?? 300)
        default:
            usage()
        }
    }

    static func usage() -> Never {
        FileHandle.standardError.write(Data("usage: kafka-bench create-topic|throughput|latency BROKERS …\n".utf8))
        exit(2)
    }

    /// Sends `count` messages of `size` bytes as fast as the client allows: batches of 25,000
    /// enqueued in order by one task, up to four awaiting delivery, every one acknowledged.
    /// Like `rdkafka_performance -p 0`, every record names partition 0 and shares one payload.
    static func throughput(brokers: [String], topic: String, count: Int, size: Int) async throws {
        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: brokers, properties: producerProperties), logger: logger)
        let payload = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let batchSize = 25_000
        let batches = (count + batchSize - 1) / batchSize
        let fullBatch = Array(repeating: ProducerRecord(topic: topic, value: payload, partition: 0), count: batchSize)
        let clock = ContinuousClock()
        let start = clock.now
        // One task enqueues every batch in order and keeps at most three awaiting delivery.
        var window: [KafkaProducer.PendingDeliveries] = []
        for batch in 0..<batches {
            let n = min(batchSize, count - batch * batchSize)
            window.append(try await producer.enqueue(n == batchSize ? fullBatch : Array(fullBatch.prefix(n))))
            if window.count > 3 { try await window.removeFirst().confirm() }
        }
        for pending in window { try await pending.confirm() }
        let elapsed = clock.now - start
        await producer.close()
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        print(String(format: "msgs_per_sec=%.0f elapsed_ms=%.0f", Double(count) / seconds, seconds * 1000))
    }

    /// Produces at `rate` msg/s with the wall-clock send time in each payload and measures
    /// send → consumed latency in a consumer in the same process (as `rdkafka_performance -l`).
    static func latency(brokers: [String], topic: String, rate: Int, count: Int, size: Int) async throws {
        let consumerConfig = KafkaConfiguration(brokers: brokers, properties: [
            "fetch.wait.max.ms": "5", "auto.offset.reset": "latest",
            "session.timeout.ms": "6000", "max.poll.interval.ms": "10000",
        ])
        let consumer = try KafkaConsumer(configuration: consumerConfig, groupID: "bench-\(UUID())", topics: [topic], logger: logger)
        while consumer.assignedPartitions.isEmpty { try await Task.sleep(for: .milliseconds(50)) }
        try await Task.sleep(for: .seconds(1))

        let producer = try KafkaProducer(configuration: KafkaConfiguration(brokers: brokers, properties: producerProperties), logger: logger)
        let receiver = Task { () -> [Int64] in
            var samples: [Int64] = []
            samples.reserveCapacity(count)
            for await message in consumer.messages {
                let now = wallClockMicros()
                if let value = message.value, let sent = parseTimestamp(value) { samples.append(now - sent) }
                if samples.count >= count { break }
            }
            return samples
        }
        let clock = ContinuousClock()
        let start = clock.now
        var sent = 0
        try await withThrowingTaskGroup(of: Void.self) { group in
            while sent < count {
                let elapsed = clock.now - start
                let due = min(count, Int(Double(rate) * (Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)))
                if due > sent {
                    let records = (sent..<due).map { _ in ProducerRecord(topic: topic, value: payload(size: size), partition: 0) }
                    sent = due
                    group.addTask { _ = try await producer.send(records) }
                }
                try await Task.sleep(for: .milliseconds(1))
            }
            try await group.waitForAll()
        }
        let samples = try await withThrowingTaskGroup(of: [Int64]?.self) { group in
            group.addTask { await receiver.value }
            group.addTask { try await Task.sleep(for: .seconds(30)); return nil }
            defer { group.cancelAll() }
            return try await group.next() ?? nil
        }
        await producer.close()
        await consumer.close()
        guard let samples, !samples.isEmpty else {
            print("error: no latency samples")
            exit(1)
        }
        let sorted = samples.sorted()
        func percentile(_ p: Double) -> Int64 { sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))] }
        print("samples=\(sorted.count) p50_us=\(percentile(0.5)) p99_us=\(percentile(0.99)) p999_us=\(percentile(0.999))")
    }

    static func payload(size: Int) -> [UInt8] {
        var bytes = Array("LATENCY:\(wallClockMicros()):".utf8)
        if bytes.count < size { bytes += [UInt8](repeating: UInt8(ascii: "x"), count: size - bytes.count) }
        return bytes
    }

    static func parseTimestamp(_ value: [UInt8]) -> Int64? {
        let text = String(decoding: value.prefix(40), as: UTF8.self)
        guard text.hasPrefix("LATENCY:") else { return nil }
        return Int64(text.dropFirst(8).prefix { $0 != ":" })
    }

    static func wallClockMicros() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1_000_000 + Int64(ts.tv_nsec) / 1_000
    }
}
