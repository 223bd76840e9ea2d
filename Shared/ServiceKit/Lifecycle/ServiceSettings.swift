public import Logging

/// Settings every OrderFlow executable reads: where to listen, how much to log, where traces go.
public struct ServiceSettings: Sendable, Equatable {
    /// The service name (`users`, `orders`, …) used in logs, metrics and traces.
    public var service: String
    /// `HTTP_HOST`; defaults to loopback.
    public var host: String
    /// `HTTP_PORT`; defaults to the service's own port.
    public var port: Int
    /// `LOG_LEVEL`: trace, debug, info, notice, warning, error or critical.
    public var logLevel: Logger.Level
    /// `OTEL_EXPORTER_OTLP_ENDPOINT`.
    public var tracing: TracingSettings
    /// `EVENT_LOOP_THREADS`: how many threads NIO's shared event-loop group runs (the HTTP
    /// server; the Postgres, HTTP and Redis clients); unset, one per core the process may use.
    public var eventLoopThreads: Int?
    /// `--print-routes`: print every HTTP route as JSON and exit instead of serving (the
    /// OpenAPI drift test compares them with `openapi.yaml`).
    public var printRoutes = false

    /// `HTTP_HOST`.
    public static let hostKey = SettingKey("http.host", expecting: "an interface address such as 127.0.0.1 or 0.0.0.0")
    /// `HTTP_PORT`.
    public static let portKey = SettingKey("http.port", expecting: "a port number 1-65535")
    /// `LOG_LEVEL`.
    public static let logLevelKey = SettingKey(
        "log.level", expecting: "one of trace, debug, info, notice, warning, error, critical"
    )

    /// `EVENT_LOOP_THREADS`.
    public static let eventLoopThreadsKey = SettingKey("event.loop.threads", expecting: "a whole number 1-64")

    /// Reads the common settings; `defaultPort` applies when `HTTP_PORT` is unset.
    public static func read(service: String, defaultPort: Int, from settings: Settings) throws(ConfigurationError) -> ServiceSettings {
        let host = settings.optionalString(hostKey) ?? "127.0.0.1"
        let port = try settings.optionalString(portKey) == nil ? defaultPort : settings.port(portKey)
        let level = try settings.optionalParsed(logLevelKey) { Logger.Level(rawValue: $0.lowercased()) } ?? .info
        return ServiceSettings(
            service: service, host: host, port: port, logLevel: level,
            tracing: try TracingSettings.read(from: settings),
            eventLoopThreads: try settings.optionalParsed(eventLoopThreadsKey) { Int($0).flatMap { (1...64).contains($0) ? $0 : nil } }
        )
    }
}
