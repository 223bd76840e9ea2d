import ServiceKit

/// What a new order must satisfy before anything is stored (pure).
enum OrderRules {
    static let maximumLines = 20
    static let maximumQuantity = 100

    static func validate(_ request: PlaceOrderRequest) throws(ProblemDetails) {
        var errors: [ProblemDetails.FieldError] = []
        if request.items.isEmpty || request.items.count > maximumLines {
            errors.append(.init(field: "items", message: "must hold 1 to \(maximumLines) lines"))
        }
        var seen = Set<String>()
        for (index, line) in request.items.enumerated() {
            if !(1...maximumQuantity).contains(line.quantity) {
                errors.append(.init(field: "items[\(index)].quantity", message: "must be from 1 to \(maximumQuantity)"))
            }
            if !seen.insert(line.productID.uuidString).inserted {
                errors.append(.init(field: "items[\(index)].product_id", message: "appears twice; use one line with the total quantity"))
            }
        }
        guard errors.isEmpty else { throw .validation(errors) }
    }
}
