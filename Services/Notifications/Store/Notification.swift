import Foundation

/// A notification as the API and the stream show it.
struct Notification: Codable, Sendable, Equatable {
    let id: String
    /// The stream position (the SSE `id`).
    let sequence: Int64
    let kind: String
    let message: String
    let payload: [String: String]
    let createdAt: Date
    let readAt: Date?

    enum CodingKeys: String, CodingKey {
        case id, kind, message, payload
        case sequence = "seq"
        case createdAt = "created_at"
        case readAt = "read_at"
    }
}
