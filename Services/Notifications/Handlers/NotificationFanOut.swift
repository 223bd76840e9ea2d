import Foundation
import Logging
import Metrics
import Redis
import ServiceKit

/// Live delivery across instances: a committed notification is published on
/// `orderflow:notifications:<user>`; every instance streaming to that user is subscribed.
/// A lost publish loses nothing: streams resume from Postgres with `Last-Event-ID`.
struct NotificationFanOut: Sendable {
    let redis: RedisClient
    let logger: Logger

    static func channel(for userID: UUID) -> String { "orderflow:notifications:\(userID.uuidString.lowercased())" }

    func publish(_ notification: Notification, to userID: UUID) async {
        do {
            let body = String(decoding: try JSONBody.encoder.encode(notification), as: UTF8.self)
            _ = try await redis.execute(RedisCommand("PUBLISH", [.text(Self.channel(for: userID)), .text(body)]))
        } catch {
            Counter(label: "notifications_fanout_failures_total").increment()
            logger.warning("notification not published to live streams", metadata: ["error": "\(error)"])
        }
    }
}
