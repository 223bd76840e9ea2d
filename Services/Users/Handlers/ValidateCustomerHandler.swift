import Contracts
import Outbox

/// Answers the saga's `validate_customer`: `customer_validated` for an active user,
/// `customer_rejected` (unknown or suspended) otherwise. The inbox makes a redelivered
/// command a no-op; the reply goes out through the outbox in the same transaction.
struct ValidateCustomerHandler: MessageHandler {
    let users: UserStore

    func handle(_ command: ValidateCustomer, context: HandlerContext) async throws {
        let user = try await users.find(command.customerID, on: context.connection)
        switch user?.status {
        case .active:
            try await context.append(CustomerValidatedReply(orderID: command.orderID, customerID: command.customerID))
        case .suspended:
            try await context.append(CustomerRejectedReply(orderID: command.orderID, customerID: command.customerID, reason: .suspended))
        case nil:
            try await context.append(CustomerRejectedReply(orderID: command.orderID, customerID: command.customerID, reason: .unknownCustomer))
        }
    }
}
