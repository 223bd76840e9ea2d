import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Hummingbird
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import TestSupport
import Testing

/// `traceparent` crosses the gateway: continued by the gateway's own span when tracing is on,
/// passed through untouched when it is off. The upstream here is a recording HTTP server in the
/// test (what is checked is the header the gateway sends, not a service's behaviour).
@Suite("Gateway trace context")
struct GatewayTracingTests {
    static let traceID = "0af7651916cd43dd8448eb211c80319c"
    static let incoming = "00-\(traceID)-b7ad6b7169203331-01"

    @Test("with tracing on the upstream sees the client's trace id and the gateway's span; with tracing off the header passes unchanged")
    func propagates() async throws {
        let seen = NIOLockedValueBox<[String]>([])
        let upstream = Router()
        upstream.get("api/v1/users/me") { request, _ -> Response in
            seen.withLockedValue { $0.append(request.headers[.traceparent] ?? "") }
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: "{}")))
        }
        upstream.get("ready") { _, _ in HTTPResponse.Status.ok }
        upstream.post("v1/traces") { request, _ -> Response in
            _ = try await request.body.collect(upTo: 4 << 20)
            return Response(status: .ok, headers: [.contentType: "application/x-protobuf"])
        }
        let port = try FreePort.reserve()
        let server = Application(router: upstream, configuration: .init(address: .hostname("127.0.0.1", port: port)), logger: Logger(label: "upstream"))
        let group = ServiceGroup(configuration: .init(services: [server], logger: Logger(label: "upstream")))
        try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { try await group.run() }
            defer { tasks.cancelAll() }
            // The gateway fails at once on a refused connection: wait until this server listens.
            try await Poll.until("the recording upstream listens") {
                var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)/ready")!)
                request.timeoutInterval = 2
                return (try? await URLSession.shared.data(for: request)).flatMap { ($0.1 as? HTTPURLResponse)?.statusCode } == 200
            }
            for tracing in [true, false] {
                var environment = try StackEnvironment.serviceEnvironment("gateway")
                environment["GATEWAY_USERS_URL"] = "http://127.0.0.1:\(port)"
                environment["GATEWAY_AUTH"] = "off"
                environment["GATEWAY_RATE_LIMIT"] = "off"
                if tracing { environment["OTEL_EXPORTER_OTLP_ENDPOINT"] = "http://127.0.0.1:\(port)" }
                let gateway = try ServiceProcess("gateway", environment: environment)
                try await Poll.until("the gateway is live") {
                    guard gateway.isRunning else { return true }
                    return await gateway.get("health")?.status == 200
                }
                try #require(gateway.isRunning, "\(gateway.log.suffix(1_000))")
                let reply = try await gateway.request("GET", "/api/v1/users/me", headers: ["traceparent": Self.incoming])
                #expect(reply.status == 200)
                let sent = try #require(seen.withLockedValue { $0.last })
                if tracing {
                    let parts = sent.split(separator: "-").map(String.init)
                    #expect(parts.count == 4 && parts[1] == Self.traceID, "same trace: \(sent)")
                    #expect(parts.count == 4 && parts[2] != "b7ad6b7169203331", "the gateway's own span is the parent: \(sent)")
                } else {
                    #expect(sent == Self.incoming)
                }
                #expect(try await gateway.terminate() == 0)
            }
            await group.triggerGracefulShutdown()
        }
    }
}
