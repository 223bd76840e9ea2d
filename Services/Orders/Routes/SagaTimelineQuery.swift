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

    func sagas(of orderID: UUID, on connection: PostgresConnection) async throws -> [Saga] {
        var sagas: [Saga] = []
        for try await (id, type, phase, created, finished) in try await connection.query("""
            SELECT id, saga_type, phase, created_at, finished_at FROM orders.saga_instances WHERE order_id = \(orderID) ORDER BY created_at
            """, logger: logger).decode((UUID, String, String, Date, Date?).self) {
            sagas.append(Saga(id: id.uuidString.lowercased(), type: type, phase: phase, createdAt: created, finishedAt: finished, steps: []))
        }
        for index in sagas.indices {
            guard let id = UUID(uuidString: sagas[index].id) else { continue }
            for try await (at, kind, step, command, attempt, detail) in try await connection.query("""
                SELECT at, kind, step, command_id, attempt, detail FROM orders.saga_steps WHERE saga_id = \(id) ORDER BY id
                """, logger: logger).decode((Date, String, String?, UUID?, Int?, String?).self) {
                sagas[index].steps.append(Step(at: at, kind: kind, step: step, commandID: command?.uuidString.lowercased(), attempt: attempt, detail: detail))
            }
        }
        return sagas
    }
}
