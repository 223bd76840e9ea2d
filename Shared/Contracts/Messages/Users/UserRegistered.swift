import Foundation

/// A user registered an account.
///
/// Published by users when an account is created; payments opens a wallet, notifications greets the user.
public struct UserRegistered: MessageContract {
    public static let ceType = "orderflow.users.user_registered.v1"
    public static let topic = Topic.usersEvents
    public static let kind = MessageKind.event
    public static let summary = "A user registered an account."

    /// The new user.
    public var userID: UUID
    /// The e-mail address the user registered with.
    public var email: String
    /// The name shown to others.
    public var displayName: String
    /// When the account was created.
    public var registeredAt: Date

    /// The Kafka key and `ce_subject`: ``userID``.
    public var aggregateID: UUID { userID }

    /// A message with every field.
    public init(userID: UUID, email: String, displayName: String, registeredAt: Date) {
        self.userID = userID
        self.email = email
        self.displayName = displayName
        self.registeredAt = registeredAt
    }

    /// A sample with every optional field populated.
    public static let example = UserRegistered(
        userID: ExampleValues.customerID,
        email: "ada@example.org",
        displayName: "Ada Lovelace",
        registeredAt: ExampleValues.time
    )

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case email
        case displayName = "display_name"
        case registeredAt = "registered_at"
    }
}
