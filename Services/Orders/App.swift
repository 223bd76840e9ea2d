import ServiceKit

/// The `orders` executable: reads its configuration, then runs until SIGTERM or SIGINT.
@main
struct OrdersApp {
    static func main() async {
        await ServiceMain.run(service: "orders", defaultPort: 8082) { settings, common, logger in
            try await buildApplication(settings: settings, common: common, logger: logger)
        }
    }
}
