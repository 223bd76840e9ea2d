import Contracts
import Foundation
import Instrumentation
public import Kafka
public import Logging
import Metrics
import NIOConcurrencyHelpers
public import PostgresNIO
import ServiceKit
public import ServiceLifecycle
import Tracing

/// Consumes topics into a service's handlers with effectively-once effects.
///
/// For each message, in order within its partition (partitions run concurrently):
/// 1. The CloudEvents envelope is read from the headers; a message without a valid envelope,
///    of a `ce_type` missing from ``ContractCatalog``, or whose payload does not decode, is
///    dead-lettered (it can never succeed).
/// 2. One transaction records `(consumer, ce_id)` in `<schema>.processed_messages` — a
///    duplicate is skipped — and runs the handler, which may append outbox messages; commit.
/// 3. Only then is the offset marked done.
///
/// A handler's ``PermanentFailure`` dead-letters the message to `orderflow.<consumer>.dlq`
/// (original key, value and headers plus `dlq_*` headers; see ``DeadLetter``) and the consumer
/// moves on. Any other error is transient: the partition is paused and the message retried
/// with ``RetryPolicy`` backoff while other partitions keep flowing. The handler runs in a
/// consumer span continuing the trace from the message's `traceparent`.
///
/// Metric: `inbox_messages_total{consumer,outcome}` with outcome processed, duplicate,
/// not_handled, dead_lettered, retried.
public final class InboxConsumer: Service, Sendable {
    /// The consumer's name: its inbox key, its dead-letter topic, and (prefixed) its group.
    public let name: String
    private let client: PostgresClient
    private let outbox: Outbox
    private let kafka: KafkaConfiguration
    private let groupID: String
    private let topics: [String]
    private let handlers: MessageHandlers
    private let deadLetters: KafkaProducer
    private let retry: RetryPolicy
    private let logger: Logger
    private let stopping = NIOLockedValueBox(false)

    /// Creates a consumer; it joins its group when run.
    /// - Parameters:
    ///   - name: For example `payments`; the group is `orderflow.<name>` unless `groupID` is given.
    ///   - outbox: The service's outbox (its schema holds `processed_messages`).
    ///   - deadLetters: The producer dead letters are sent with (the service's shared producer).
    public init(
        name: String, client: PostgresClient, outbox: Outbox, kafka: KafkaConfiguration, topics: [String],
        handlers: MessageHandlers, deadLetters: KafkaProducer, retry: RetryPolicy = RetryPolicy(),
        groupID: String? = nil, logger: Logger
    ) {
        self.name = name
        self.client = client
        self.outbox = outbox
        self.kafka = kafka
        self.groupID = groupID ?? "orderflow.\(name)"
        self.topics = topics
        self.handlers = handlers
        self.deadLetters = deadLetters
        self.retry = retry
        var logger = logger
        logger[metadataKey: "consumer"] = "\(name)"
        self.logger = logger
    }

    /// The dead-letter topic of this consumer.
    public var deadLetterTopic: String { Topic.deadLetters(consumer: name).rawValue }

    /// Consumes until graceful shutdown (or cancellation); then finishes running handlers,
    /// commits and leaves the group.
    public func run() async throws {
        // From zero, so that an alert on the first dead letter sees an increase.
        outcomeCounter("dead_lettered").increment(by: 0)
        let consumer = try KafkaConsumer(configuration: kafka, groupID: groupID, topics: topics, logger: logger)
        await withDiscardingTaskGroup { group in
            group.addTask {
                await consumer.process { message in await self.consume(message, from: consumer) }
            }
            try? await gracefulShutdown()
            stopping.withLockedValue { $0 = true }
            await consumer.close()
        }
    }

    private func consume(_ message: KafkaMessage, from consumer: KafkaConsumer) async {
        var failures = 0
        var paused = false
        defer { if paused { consumer.resume(message.topicPartition) } }
        while true {
            var verdict = await attempt(message)
            if case .deadLetter(let reason) = verdict {
                verdict = await deadLetter(message, reason: reason)
            }
            switch verdict {
            case .processed, .duplicate, .notHandled, .deadLetter:
                count(verdict)
                do {
                    try consumer.markDone(message)
                } catch {
                    logger.debug("offset not stored: partition no longer ours", metadata: ["kafka.partition": "\(message.topicPartition)"])
                }
                return
            case .retry(let error):
                count(verdict)
                failures += 1
                if mustGiveUp(message, consumer) { return }  // not marked done: redelivered to the partition's next owner
                // Paused again on every attempt: a rebalance in between clears application pauses.
                consumer.pause(message.topicPartition)
                paused = true
                let delay = retry.delay(afterFailures: failures)
                logger.warning("message failed; retrying after backoff", metadata: [
                    "kafka.partition": "\(message.topicPartition)", "kafka.offset": "\(message.offset)",
                    "retry.attempt": "\(failures)", "retry.delay_ms": "\(delay.components.seconds * 1_000 + delay.components.attoseconds / 1_000_000_000_000_000)",
                    "error": "\(String(reflecting: error))",
                ])
                await backOff(delay, message, consumer)
                if mustGiveUp(message, consumer) { return }
            }
        }
    }

    /// Whether to stop retrying: the consumer is stopping or the partition is no longer ours.
    private func mustGiveUp(_ message: KafkaMessage, _ consumer: KafkaConsumer) -> Bool {
        stopping.withLockedValue { $0 } || !consumer.owns(message)
    }

    /// Sleeps `delay`, waking early when the consumer stops or the partition is revoked.
    private func backOff(_ delay: Duration, _ message: KafkaMessage, _ consumer: KafkaConsumer) async {
        let clock = ContinuousClock()
        let end = clock.now + delay
        while clock.now < end, !mustGiveUp(message, consumer) {
            try? await Task.sleep(for: min(.milliseconds(100), end - clock.now))
        }
    }

    private func attempt(_ message: KafkaMessage) async -> InboxVerdict {
        let headers = message.headers.compactMap { header in header.text.map { CloudEventHeader(name: header.key, value: $0) } }
        let event: CloudEvent
        do {
            event = try CloudEvent(headers: headers, data: message.value)
        } catch {
            return .deadLetter("invalid CloudEvents envelope: \(error)")
        }
        guard ContractCatalog.contract(forType: event.type) != nil else {
            return .deadLetter("unknown ce_type \(event.type)")
        }
        guard let entry = handlers.entry(for: event.type) else { return .notHandled }
        let prepared: MessageHandlers.Prepared
        do {
            prepared = try entry(event)
        } catch {
            return .deadLetter("undecodable \(event.type) payload: \(error)")
        }
        var traceContext = ServiceContext.topLevel
        InstrumentationSystem.instrument.extract(message.headers, into: &traceContext, using: KafkaHeadersExtractor())
        var logger = self.logger
        logger[metadataKey: "ce_type"] = "\(event.type)"
        logger[metadataKey: "ce_id"] = "\(event.id)"
        if let correlation = event.correlationID { logger[metadataKey: "correlation_id"] = "\(correlation)" }
        let handlerLogger = logger
        return await withSpan("process \(event.type)", context: traceContext, ofKind: .consumer) { span in
            span.attributes["messaging.system"] = "kafka"
            span.attributes["messaging.destination.name"] = message.topic
            span.attributes["messaging.consumer.group.name"] = self.groupID
            return await self.apply(prepared, event: event, message: message, logger: handlerLogger)
        }
    }

    private func apply(_ prepared: MessageHandlers.Prepared, event: CloudEvent, message: KafkaMessage, logger: Logger) async -> InboxVerdict {
        let name = self.name
        let outbox = self.outbox
        let committed = AfterCommitActions()
        do {
            // A handler that caught a failed statement leaves the transaction aborted; the
            // checked transaction makes that an error (retried) instead of a silent rollback.
            let fresh = try await client.withCheckedTransaction(logger: logger) { connection -> Bool in
                let rows = try await connection.query("""
                    INSERT INTO \(unescaped: outbox.schema).processed_messages (consumer, message_id, message_type)
                    VALUES (\(name), \(event.id), \(event.type)) ON CONFLICT DO NOTHING RETURNING 1
                    """, logger: logger)
                var inserted = false
                for try await _ in rows { inserted = true }
                guard inserted else { return false }
                try await prepared(HandlerContext(
                    connection: connection, event: event, source: message, outbox: outbox, logger: logger, afterCommitActions: committed
                ))
                return true
            }
            if fresh { await committed.run() }
            return fresh ? .processed : .duplicate
        } catch let permanent as PermanentFailure {
            return .deadLetter(permanent.reason)
        } catch {
            return .retry(error)
        }
    }

    /// Sends the message to the dead-letter topic; a failed send is transient (retried).
    private func deadLetter(_ message: KafkaMessage, reason: String) async -> InboxVerdict {
        logger.error("dead-lettering a message", metadata: [
            "kafka.partition": "\(message.topicPartition)", "kafka.offset": "\(message.offset)", "dlq.reason": "\(reason)",
        ])
        do {
            _ = try await deadLetters.send(DeadLetter.record(for: message, consumer: name, reason: reason, at: Date()))
            return .deadLetter(reason)
        } catch {
            return .retry(error)
        }
    }

    private func count(_ verdict: InboxVerdict) {
        let outcome: String
        switch verdict {
        case .processed: outcome = "processed"
        case .duplicate: outcome = "duplicate"
        case .notHandled: outcome = "not_handled"
        case .deadLetter: outcome = "dead_lettered"
        case .retry: outcome = "retried"
        }
        outcomeCounter(outcome).increment()
    }

    private func outcomeCounter(_ outcome: String) -> Counter {
        Counter(label: "inbox_messages_total", dimensions: [("consumer", name), ("outcome", outcome)])
    }
}
