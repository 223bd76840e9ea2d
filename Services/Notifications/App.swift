import ServiceKit

/// The `notifications` executable: reads its configuration, then runs until SIGTERM or SIGINT.
@main
struct NotificationsApp {
    static func main() async {
        await ServiceMain.run(service: "notifications", defaultPort: 8084) { settings, common, logger in
            try await buildApplication(settings: settings, common: common, logger: logger)
        }
    }
}
