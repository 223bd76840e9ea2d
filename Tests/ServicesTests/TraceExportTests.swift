import Foundation
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TestSupport
import Testing

/// With `OTEL_EXPORTER_OTLP_ENDPOINT` set, a service exports its request spans over OTLP/HTTP.
/// The collector here is a real HTTP server in the test that records what it receives.
@Suite("Trace export over OTLP/HTTP")
struct TraceExportTests {
    @Test("a request's span reaches the collector at /v1/traces")
    func exportsSpans() async throws {
        let received = NIOLockedValueBox<[String]>([])
        let router = Router()
        router.post("v1/traces") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 4 << 20)
            received.withLockedValue { $0.append(request.headers[.contentType] ?? "") }
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        let port = try FreePort.reserve()
        let collector = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: Logger(label: "collector"))
        let group = ServiceGroup(configuration: .init(services: [collector], logger: Logger(label: "collector")))
        try await PrivateStack.start("kafka").use { broker in
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                // A broker of its own: this orders process must not join the shared consumer group
                // the saga tests rely on.
                var environment = try StackEnvironment.serviceEnvironment("orders")
                environment["KAFKA_BROKERS"] = try broker.value("ORDERFLOW_KAFKA_BROKERS")
                environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(port)"
                let service = try ServiceProcess("orders", environment: environment)
                try await Poll.until("orders is ready") { await service.get("health/ready")?.status == 200 }
                try await Poll.until("a span batch reached the collector", deadline: .seconds(60)) {
                    _ = await service.get("health")
                    return !received.withLockedValue { $0.isEmpty }
                }
                #expect(received.withLockedValue { $0 }.allSatisfy { $0 == "application/x-protobuf" })
                #expect(try await service.terminate() == 0)
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
        }
    }
}
