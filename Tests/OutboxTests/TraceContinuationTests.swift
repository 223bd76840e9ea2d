import Contracts
import Foundation
import Instrumentation
import Kafka
import Outbox
import ServiceContextModule
import TestSupport
import Testing

/// A handler runs in the trace of the message it handles, and what it appends to the outbox
/// carries that trace on: the `traceparent` that came in is the one that goes out.
@Suite("Trace context across the inbox and outbox")
struct TraceContinuationTests {
    @Test("a handler's outbox message carries the incoming message's traceparent")
    func traceparentContinues() async throws {
        PassThroughInstrument.bootstrapOnce()
        try await OutboxTestKit.withSchema { schema in
            let topic = try await OutboxTestKit.topic("inbox-trace")
            let producer = try KafkaProducer(configuration: try OutboxTestKit.kafka(), logger: OutboxTestKit.logger)
            var event = try OutboxTestKit.event(note: "traced")
            event.traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            _ = try await producer.send(OutboxTestKit.record(event, topic: topic))
            var handlers = MessageHandlers()
            handlers.on(UserRegistered.self) { message, context in
                try await context.append(UserSuspended(userID: message.userID, reason: "trace test", suspendedAt: Date()))
            }
            let inbox = try schema.inbox(name: "trace", topic: topic, handlers: handlers, producer: producer)
            try await OutboxTestKit.running({ try await inbox.run() }) {
                try await Poll.until("the handler appended its message") {
                    try await schema.count("SELECT count(*)::int8 FROM $schema.outbox") == 1
                }
            }
            let headers = try await schema.count("""
                SELECT count(*)::int8 FROM $schema.outbox
                WHERE headers @> '[["traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]]'::jsonb
                  AND headers @> '[["causation_id", "\(event.id.uuidString.lowercased())"]]'::jsonb
                """)
            #expect(headers == 1, "the appended message continues the trace and names its cause")
            await producer.close()
        }
    }
}

/// Carries `traceparent` from extraction to injection unchanged (no tracer needed): enough to
/// see that the inbox puts the extracted context in scope and the outbox injects it.
private struct PassThroughInstrument: Instrument {
    private enum TraceparentKey: ServiceContextKey {
        typealias Value = String
    }

    static let bootstrap: Void = { InstrumentationSystem.bootstrap(PassThroughInstrument()) }()

    static func bootstrapOnce() { _ = bootstrap }

    func extract<Carrier, Extract: Extractor>(_ carrier: Carrier, into context: inout ServiceContext, using extractor: Extract)
    where Extract.Carrier == Carrier {
        if let value = extractor.extract(key: "traceparent", from: carrier) { context[TraceparentKey.self] = value }
    }

    func inject<Carrier, Inject: Injector>(_ context: ServiceContext, into carrier: inout Carrier, using injector: Inject)
    where Inject.Carrier == Carrier {
        if let value = context[TraceparentKey.self] { injector.inject(value, forKey: "traceparent", into: &carrier) }
    }
}
