import Foundation
public import Hummingbird
import NIOCore
public import Logging

/// The application type every OrderFlow service builds.
public typealias ServiceApplication = Application<RouterResponder<AppRequestContext>>

/// The entry point every OrderFlow executable shares.
///
/// 1. Reads ``ServiceSettings`` and lets the service read its own; a ``ConfigurationError``
///    prints one line naming the variable and exits with status 78 (`EX_CONFIG`).
/// 2. Bootstraps JSON logging, Prometheus metrics and tracing.
/// 3. Builds the application and runs it in a ServiceLifecycle `ServiceGroup` that shuts down
///    gracefully on SIGTERM and SIGINT: the HTTP server stops accepting first, background
///    services (Postgres pool, exporters) stop after it. Any startup failure exits with status 1
///    after one human line on standard error.
public enum ServiceMain {
    /// Runs the service and exits the process.
    /// - Parameters:
    ///   - service: The service name.
    ///   - defaultPort: The HTTP port used when `HTTP_PORT` is unset.
    ///   - build: Builds the application from the settings; may throw ``ConfigurationError``.
    public static func run(
        service: String,
        defaultPort: Int,
        arguments: [String] = CommandLine.arguments,
        environment: [String: String] = ProcessInfo.processInfo.environment,
        build: @Sendable (Settings, ServiceSettings, Logger) async throws -> ServiceApplication
    ) async -> Never {
        let settings = Settings(arguments: arguments, environment: environment)
        var common: ServiceSettings
        do {
            common = try ServiceSettings.read(service: service, defaultPort: defaultPort, from: settings)
            common.printRoutes = arguments.dropFirst().contains("--print-routes")
        } catch {
            exit(configurationError: error, service: service)
        }
        // Before anything touches the shared group, which is created on first use.
        if let threads = common.eventLoopThreads { NIOSingletons.groupLoopCountSuggestion = threads }
        var logger = Logger(label: service)
        do {
            let tracingService = try Observability.bootstrap(service: service, logLevel: common.logLevel, tracing: common.tracing)
            logger = Logger(label: service)
            var app = try await build(settings, common, logger)
            if let tracingService { app.addServices(tracingService) }
            logger.info("starting", metadata: ["http.host": "\(common.host)", "http.port": "\(common.port)"])
            try await app.runService(gracefulShutdownSignals: [.sigterm, .sigint])
            logger.info("stopped")
            Foundation.exit(0)
        } catch let error as ConfigurationError {
            exit(configurationError: error, service: service)
        } catch {
            let line = "\(service): startup failed: \(StartupError.describe(error))"
            logger.critical("\(line)")
            FileHandle.standardError.write(Data((line + "\n").utf8))
            Foundation.exit(1)
        }
    }

    private static func exit(configurationError error: ConfigurationError, service: String) -> Never {
        FileHandle.standardError.write(Data("\(service): \(error.message)\n".utf8))
        Foundation.exit(78)
    }
}
