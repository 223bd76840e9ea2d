import ServiceKit

/// The `users` executable: reads its configuration, then runs until SIGTERM or SIGINT.
@main
struct UsersApp {
    static func main() async {
        await ServiceMain.run(service: "users", defaultPort: 8081) { settings, common, logger in
            try await buildApplication(settings: settings, common: common, logger: logger)
        }
    }
}
