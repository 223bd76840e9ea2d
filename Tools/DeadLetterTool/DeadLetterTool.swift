import Foundation
import Kafka
import Logging
import Outbox
import ServiceKit

/// `orderflow-dlq`: lists and replays a consumer's dead letters.
///
///     orderflow-dlq list CONSUMER
///     orderflow-dlq replay CONSUMER --all
///     orderflow-dlq replay CONSUMER PARTITION:OFFSET [PARTITION:OFFSET…]
///
/// The broker comes from `KAFKA_BROKERS` (or `--kafka-brokers`). Replaying sends the message to
/// its original topic unchanged: the consumer that failed processes it again, every other
/// consumer's inbox recognises it as a duplicate.
@main
struct DeadLetterTool {
    static func main() async {
        var logger = Logger(label: "orderflow-dlq")
        logger.logLevel = .error
        var arguments = Array(CommandLine.arguments.dropFirst())
        var flags: [String] = []
        if let index = arguments.firstIndex(of: "--kafka-brokers"), index + 1 < arguments.count {
            flags = Array(arguments[index...index + 1])
            arguments.removeSubrange(index...index + 1)
        }
        guard arguments.count >= 2 else { usage() }
        let kafka: KafkaConfiguration
        do {
            let settings = Settings(arguments: ["orderflow-dlq"] + flags, environment: ProcessInfo.processInfo.environment)
            kafka = KafkaConfiguration(brokers: try KafkaSettings.read(from: settings).brokers, properties: [
                "session.timeout.ms": "6000", "max.poll.interval.ms": "10000",
            ])
        } catch {
            fail(error.message, status: 78)
        }
        let store = DeadLetterStore(kafka: kafka, logger: logger)
        do {
            switch (arguments[0], arguments.count) {
            case ("list", 2):
                print(DeadLetterTable.render(try await store.list(consumer: arguments[1])), terminator: "")
            case ("replay", 3...):
                let letters = try await store.list(consumer: arguments[1])
                let chosen = try select(letters, arguments: Array(arguments.dropFirst(2)))
                let reports = try await store.replay(chosen)
                for (letter, report) in zip(chosen, reports) {
                    print("replayed \(letter.message.partition):\(letter.message.offset) → \(report.topic)[\(report.partition)]@\(report.offset)")
                }
            default:
                usage()
            }
        } catch {
            fail("\(error)", status: 1)
        }
    }

    static func select(_ letters: [DeadLetter], arguments: [String]) throws -> [DeadLetter] {
        if arguments == ["--all"] { return letters }
        return try arguments.map { argument in
            let parts = argument.split(separator: ":")
            guard parts.count == 2, let partition = Int32(parts[0]), let offset = Int64(parts[1]) else {
                fail("not PARTITION:OFFSET: \(argument)", status: 2)
            }
            guard let letter = letters.first(where: { $0.message.partition == partition && $0.message.offset == offset }) else {
                throw NotFound(position: argument)
            }
            return letter
        }
    }

    struct NotFound: Error, CustomStringConvertible {
        let position: String
        var description: String { "no dead letter at \(position)" }
    }

    static func usage() -> Never {
        fail("usage: orderflow-dlq list CONSUMER | replay CONSUMER (--all | PARTITION:OFFSET…)", status: 2)
    }

    static func fail(_ message: String, status: Int32) -> Never {
        FileHandle.standardError.write(Data("orderflow-dlq: \(message)\n".utf8))
        exit(status)
    }
}
