import ServiceKit

/// The `payments` executable: reads its configuration, then runs until SIGTERM or SIGINT.
@main
struct PaymentsApp {
    static func main() async {
        await ServiceMain.run(service: "payments", defaultPort: 8083) { settings, common, logger in
            try await buildApplication(settings: settings, common: common, logger: logger)
        }
    }
}
