/// Why users refused a customer in the PlaceOrder saga.
public enum CustomerRejectionReason: String, Codable, Sendable, CaseIterable, SchemaEnumeration {
    /// No user has this id.
    case unknownCustomer = "unknown_customer"
    /// The user is suspended.
    case suspended
}
