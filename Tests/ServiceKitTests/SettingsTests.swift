import Configuration
@testable import ServiceKit
import Testing

/// Configuration: precedence, and errors that name the variable and say what is expected.
@Suite("Settings and configuration errors")
struct SettingsTests {
    private func settings(args: [String] = ["svc"], env: [String: String] = [:], defaults: [String: String] = [:]) -> Settings {
        Settings(arguments: args, environment: env, defaults: defaults)
    }

    @Test("flags beat environment variables, which beat defaults")
    func precedence() throws {
        let key = ServiceSettings.portKey
        #expect(try settings(defaults: ["http.port": "1"]).port(key) == 1)
        #expect(try settings(env: ["HTTP_PORT": "2"], defaults: ["http.port": "1"]).port(key) == 2)
        #expect(try settings(args: ["svc", "--http-port", "3"], env: ["HTTP_PORT": "2"]).port(key) == 3)
    }

    @Test("a missing required setting names the variable, the flag and the expectation")
    func missing() {
        #expect(throws: ConfigurationError(key: DatabaseURL.key, problem: .missing)) {
            try DatabaseSettings.read(from: settings())
        }
        let message = ConfigurationError(key: DatabaseURL.key, problem: .missing).message
        #expect(message.contains("DATABASE_URL"))
        #expect(message.contains("--database-url"))
        #expect(message.contains("postgres://"))
        #expect(!message.contains("\n"))
    }

    @Test("invalid values are rejected with the offending value", arguments: [
        ("HTTP_PORT", "abc"), ("HTTP_PORT", "0"), ("HTTP_PORT", "70000"), ("LOG_LEVEL", "loud"),
        ("OTEL_EXPORTER_OTLP_ENDPOINT", "collector:4318"), ("EVENT_LOOP_THREADS", "0"), ("EVENT_LOOP_THREADS", "65"),
        ("EVENT_LOOP_THREADS", "two"),
    ])
    func invalid(_ variable: String, _ value: String) {
        do {
            _ = try ServiceSettings.read(service: "svc", defaultPort: 8080, from: settings(env: [variable: value]))
            Issue.record("\(variable)=\(value) should be rejected")
        } catch {
            #expect(error.key.environmentVariable == variable)
            #expect(error.problem == .invalid(value))
            #expect(error.message.contains(variable))
        }
    }

    @Test("defaults apply when nothing is set")
    func defaults() throws {
        let common = try ServiceSettings.read(service: "svc", defaultPort: 8082, from: settings())
        #expect(common == ServiceSettings(service: "svc", host: "127.0.0.1", port: 8082, logLevel: .info, tracing: .init(otlpEndpoint: nil)))
        #expect(common.eventLoopThreads == nil, "NIO's default (one per core) unless set")
        #expect(try ServiceSettings.read(service: "svc", defaultPort: 8082, from: settings(env: ["EVENT_LOOP_THREADS": "1"])).eventLoopThreads == 1)
    }

    @Test("DATABASE_URL parsing", arguments: [
        ("postgres://u:p@localhost:5433/db?sslmode=disable", true),
        ("postgresql://u@127.0.0.1/db", true),
        ("nonsense", false), ("mysql://u:p@h/db", false), ("postgres://u:p@h:5432/", false),
        ("postgres://h/db", false), ("postgres://u:p@h/db?sslmode=sometimes", false), ("postgres://u:p@h/db?foo=bar", false),
    ])
    func databaseURL(_ raw: String, _ valid: Bool) {
        #expect((DatabaseURL(raw) != nil) == valid)
    }

    @Test("an invalid secret is redacted in the error")
    func redaction() {
        do {
            _ = try DatabaseSettings.read(from: settings(env: ["DATABASE_URL": "postgres://u:hunter2@h:99999/db"]))
            Issue.record("port 99999 should be rejected")
        } catch {
            #expect(!error.message.contains("hunter2"))
            #expect(error.message.contains("postgres://u:***@h:99999/db"))
        }
    }
}
