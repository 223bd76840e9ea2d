/// Where traces go. Without an OTLP endpoint tracing is a no-op.
public struct TracingSettings: Sendable, Equatable {
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`, for example `http://127.0.0.1:4318`; nil disables export.
    public var otlpEndpoint: String?

    /// Creates settings.
    public init(otlpEndpoint: String?) {
        self.otlpEndpoint = otlpEndpoint
    }

    /// The setting key for the OTLP endpoint (the OpenTelemetry standard variable).
    public static let otlpEndpointKey = SettingKey(
        "otel.exporter.otlp.endpoint",
        expecting: "an http(s) URL of an OTLP/HTTP collector, for example http://127.0.0.1:4318"
    )

    /// Reads the tracing settings; an endpoint that is not an http(s) URL is an error.
    public static func read(from settings: Settings) throws(ConfigurationError) -> TracingSettings {
        let endpoint = try settings.optionalParsed(otlpEndpointKey) { raw -> String? in
            (raw.hasPrefix("http://") || raw.hasPrefix("https://")) && raw.count > 8 ? raw : nil
        }
        return TracingSettings(otlpEndpoint: endpoint)
    }
}
