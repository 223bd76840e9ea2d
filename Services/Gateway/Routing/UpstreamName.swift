/// The services behind the gateway.
enum UpstreamName: String, CaseIterable, Sendable, Hashable {
    case users
    case orders
    case payments
    case notifications
}
