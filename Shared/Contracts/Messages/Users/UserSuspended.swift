import Foundation

/// An administrator suspended a user, who can no longer place orders.
///
/// Published by users when an account is suspended.
public struct UserSuspended: MessageContract {
    public static let ceType = "orderflow.users.user_suspended.v1"
    public static let topic = Topic.usersEvents
    public static let kind = MessageKind.event
    public static let summary = "An administrator suspended a user, who can no longer place orders."

    /// The suspended user.
    public var userID: UUID
    /// Why, in the administrator's words.
    public var reason: String?
    /// When the suspension took effect.
    public var suspendedAt: Date

    /// The Kafka key and `ce_subject`: ``userID``.
    public var aggregateID: UUID { userID }

    /// A message with every field.
    public init(userID: UUID, reason: String? = nil, suspendedAt: Date) {
        self.userID = userID
        self.reason = reason
        self.suspendedAt = suspendedAt
    }

    /// A sample with every optional field populated.
    public static let example = UserSuspended(
        userID: ExampleValues.customerID,
        reason: "chargeback investigation",
        suspendedAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case reason
        case suspendedAt = "suspended_at"
    }
}
