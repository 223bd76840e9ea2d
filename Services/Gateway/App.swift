import ServiceKit

/// The `gateway` executable: the public HTTP front door.
@main
struct GatewayApp {
    static func main() async {
        await ServiceMain.run(service: "gateway", defaultPort: 8080) { settings, common, logger in
            try await buildApplication(settings: settings, common: common, logger: logger)
        }
    }
}
