/// Why the PlaceOrder saga rejected an order.
public enum OrderRejectionReason: String, Codable, Sendable, CaseIterable, SchemaEnumeration {
    /// Step 1: a product had too little stock.
    case outOfStock = "out_of_stock"
    /// Step 2: the customer does not exist.
    case customerUnknown = "customer_unknown"
    /// Step 2: the customer is suspended.
    case customerSuspended = "customer_suspended"
    /// Step 3: the wallet balance is below the total.
    case insufficientFunds = "insufficient_funds"
    /// Step 3: the total exceeds the customer's per-order limit.
    case overLimit = "over_limit"
    /// Step 3: payments declined for another reason (for example an injected fault).
    case paymentDeclined = "payment_declined"
    /// A step did not answer within its timeout, retries included.
    case timedOut = "timed_out"
}
