import Foundation

/// One entry of `GET /api/v1/orders`: the order, and with `include=sagas` its sagas and their
/// timelines (encoded as the order's fields plus `sagas`).
struct ListedOrder: Encodable, Sendable {
    let order: Order
    /// nil when sagas were not asked for; empty when the order has none yet.
    let sagas: [SagaTimelineQuery.Saga]?

    private enum CodingKeys: String, CodingKey {
        case sagas
    }

    func encode(to encoder: any Encoder) throws {
        try order.encode(to: encoder)
        guard let sagas else { return }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(sagas, forKey: .sagas)
    }
}
