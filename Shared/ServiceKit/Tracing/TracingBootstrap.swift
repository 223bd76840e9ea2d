import Instrumentation
import Logging
import OTel
import ServiceLifecycle

/// Bootstraps swift-distributed-tracing with swift-otel's OTLP/HTTP exporter when an endpoint is set.
package enum TracingBootstrap {
    /// Returns the exporter's background service (to run in the service group), or nil when tracing is off.
    package static func bootstrap(service: String, settings: TracingSettings) throws -> (any Service)? {
        guard let endpoint = settings.otlpEndpoint else { return nil }
        var configuration = OTel.Configuration.default
        configuration.serviceName = service
        // swift-otel's own diagnostics go through our JSON log handler, warnings and worse only.
        configuration.diagnosticLogger = .custom(Logger(label: "otel"))
        configuration.diagnosticLogLevel = .warning
        configuration.logs.enabled = false
        configuration.metrics.enabled = false
        configuration.traces.enabled = true
        configuration.traces.exporter = .otlp
        configuration.traces.otlpExporter.protocol = .httpProtobuf
        configuration.traces.otlpExporter.endpoint = endpoint.hasSuffix("/v1/traces")
            ? endpoint
            : endpoint.trimmingSuffix("/") + "/v1/traces"
        let backend = try OTel.makeTracingBackend(configuration: configuration)
        InstrumentationSystem.bootstrap(backend.factory)
        return backend.service
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
