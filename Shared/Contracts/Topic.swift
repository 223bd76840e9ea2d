/// A Kafka topic name. Every OrderFlow topic name is defined here and nowhere else.
///
/// Records are keyed by aggregate id (the order id for everything in an order's saga), so one
/// saga's messages stay in order on one partition.
public struct Topic: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The topic name as Kafka knows it.
    public let rawValue: String

    /// A topic by name.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    public var description: String { rawValue }

    /// Events about users: registrations, suspensions.
    public static let usersEvents = Topic(rawValue: "orderflow.users.events")
    /// Commands the saga orchestrator sends to users.
    public static let usersCommands = Topic(rawValue: "orderflow.users.commands")
    /// Events about orders: created, approved, rejected, cancelled.
    public static let ordersEvents = Topic(rawValue: "orderflow.orders.events")
    /// Participants' replies to saga commands, consumed by the orders service.
    public static let sagaReplies = Topic(rawValue: "orderflow.orders.saga_replies")
    /// Events about payments: authorized, declined, voided, refunded.
    public static let paymentsEvents = Topic(rawValue: "orderflow.payments.events")
    /// Commands the saga orchestrator sends to payments.
    public static let paymentsCommands = Topic(rawValue: "orderflow.payments.commands")

    /// Every message topic (dead-letter topics excluded, see ``deadLetters(consumer:)``).
    public static let all: [Topic] = [
        .usersEvents, .usersCommands, .ordersEvents, .sagaReplies, .paymentsEvents, .paymentsCommands,
    ]

    /// The address pattern of dead-letter topics, with `{consumer}` standing for the consumer name.
    public static let deadLetterPattern = "orderflow.{consumer}.dlq"

    /// The dead-letter topic of one consumer: `orderflow.<consumer>.dlq`.
    public static func deadLetters(consumer: String) -> Topic {
        Topic(rawValue: "orderflow.\(consumer).dlq")
    }
}
