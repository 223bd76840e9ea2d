/// What a user may do. Carried in the access token's `roles` claim.
public enum Role: String, Codable, Sendable, CaseIterable {
    /// Places and sees their own orders, wallet and notifications.
    case customer
    /// Everything a customer may, plus suspending users, seeing every order and injecting faults.
    case admin
}
