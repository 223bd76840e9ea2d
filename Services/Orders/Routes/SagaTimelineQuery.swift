import Foundation
import Logging
import PostgresNIO

/// Reads an order's sagas and their timelines, for people studying the flow.
struct SagaTimelineQuery: Sendable {
    let logger: Logger

    struct Saga: Encodable, Sendable {
        let id: String
        let type: String
        let phase: String
        let createdAt: Date
        let finishedAt: Date?
        var steps: [Step]

        enum CodingKeys: String, CodingKey {
            case id, type, phase, steps
            case createdAt = "created_at", finishedAt = "finished_at"
        }
    }

    struct Step: Encodable, Sendable {
        let at: Date
        let kind: String
        let step: String?
        let commandID: String?
        let attempt: Int?
        let detail: String?

        enum CodingKeys: String, CodingKey {
            case at, kind, step, attempt, detail
            case commandID = "command_id"
        }
    }

    /// The sagas of one order, oldest first, each with its timeline.
    func sagas(of orderID: UUID, on connection: PostgresConnection) async throws -> [Saga] {
        try await sagas(ofOrders: [orderID], on: connection)[orderID] ?? []
    }

    /// The sagas of each of `orderIDs`, oldest first, each with its timeline: two statements
    /// whatever the number of orders. An order without a saga has no entry.
    func sagas(ofOrders orderIDs: [UUID], on connection: PostgresConnection) async throws -> [UUID: [Saga]] {
        guard !orderIDs.isEmpty else { return [:] }
        var sagas: [(orderID: UUID, saga: Saga)] = []
        var indexOfSaga: [UUID: Int] = [:]
        for try await (id, orderID, type, phase, created, finished) in try await connection.query("""
            SELECT id, order_id, saga_type, phase, created_at, finished_at FROM orders.saga_instances
            WHERE order_id = ANY(\(orderIDs)) ORDER BY created_at, id
            """, logger: logger).decode((UUID, UUID, String, String, Date, Date?).self) {
            indexOfSaga[id] = sagas.count
            sagas.append((orderID, Saga(id: id.uuidString.lowercased(), type: type, phase: phase, createdAt: created, finishedAt: finished, steps: [])))
        }
        guard !sagas.isEmpty else { return [:] }
        for try await (sagaID, at, kind, step, command, attempt, detail) in try await connection.query("""
            SELECT saga_id, at, kind, step, command_id, attempt, detail FROM orders.saga_steps
            WHERE saga_id = ANY(\(Array(indexOfSaga.keys))) ORDER BY id
            """, logger: logger).decode((UUID, Date, String, String?, UUID?, Int?, String?).self) {
            guard let index = indexOfSaga[sagaID] else { continue }
            sagas[index].saga.steps.append(Step(at: at, kind: kind, step: step, commandID: command?.uuidString.lowercased(), attempt: attempt, detail: detail))
        }
        return Dictionary(grouping: sagas, by: \.orderID).mapValues { $0.map(\.saga) }
    }
}
