/// Every message type of the OrderFlow contract, and lookup by CloudEvents type.
///
/// Consumers use ``contract(forType:)`` to route a record; an unknown type is sent to the
/// dead-letter topic. A new message type (or a new `.vN` of an existing one) must be added to
/// ``all``; the schema snapshots and the AsyncAPI document are generated from this list.
public enum ContractCatalog {
    /// Every message type: events, then commands, then replies.
    public static let all: [any MessageContract.Type] = [
        // Events
        UserRegistered.self,
        UserSuspended.self,
        OrderCreated.self,
        OrderApproved.self,
        OrderRejected.self,
        OrderCancelled.self,
        PaymentAuthorized.self,
        PaymentDeclined.self,
        PaymentVoided.self,
        PaymentRefunded.self,
        // Commands
        ValidateCustomer.self,
        AuthorizePayment.self,
        VoidPayment.self,
        RefundPayment.self,
        // Replies
        CustomerValidatedReply.self,
        CustomerRejectedReply.self,
        PaymentAuthorizedReply.self,
        PaymentDeclinedReply.self,
        PaymentVoidedReply.self,
        PaymentRefundedReply.self,
        PaymentRefundRefusedReply.self,
    ]

    private static let byType: [String: any MessageContract.Type] = Dictionary(
        all.map { ($0.ceType, $0) },
        uniquingKeysWith: { first, _ in first }
    )

    /// The message type whose ``MessageContract/ceType`` is `ceType`, or nil when unknown.
    public static func contract(forType ceType: String) -> (any MessageContract.Type)? {
        byType[ceType]
    }

    /// The message types published on `topic`, in catalog order.
    public static func contracts(on topic: Topic) -> [any MessageContract.Type] {
        all.filter { $0.topic == topic }
    }
}
