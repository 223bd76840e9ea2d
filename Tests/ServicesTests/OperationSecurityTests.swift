import Foundation
import TestSupport
import Testing

extension LiveServices {
    /// Each service's operation gate (`static let access` in its API) agrees with the
    /// document's `security`: every operation marked `security: []` answers a request without a
    /// token with something other than 401, every other operation answers it with 401 — before
    /// anything about the request itself, so an empty request is enough.
    @Suite("Operation access ↔ openapi.yaml security")
    struct OperationSecurityTests {
        @Test("no token: 401 exactly on the operations the document does not mark public")
        func gatesMatchTheDocument() async throws {
            let operations = try OpenAPIDriftTests.documentOperations().filter { !$0.tags.contains("gateway") }
            #expect(operations.count >= 20, "the scanner found too few operations: \(operations.map(\.route))")
            #expect(operations.contains { $0.isPublic } && operations.contains { !$0.isPublic })
            let core = try await UsersAndPayments.start()
            let orders = try await core.startVerifying("orders")
            let notifications = try await core.startVerifying("notifications")
            let services = ["users": core.users, "payments": core.payments, "orders": orders, "notifications": notifications]
            for operation in operations {
                let tag = try #require(operation.tags.first, "\(operation.route) has no tag")
                let service = try #require(services[tag], "\(operation.route): no service for tag \(tag)")
                // Path parameters get a well-formed id; nothing else is sent.
                let path = operation.path.replacingOccurrences(of: #"\{[^}]+\}"#, with: UUID().uuidString.lowercased(), options: .regularExpression)
                let reply = try await service.request(operation.method, path)
                if operation.isPublic {
                    #expect(reply.status != 401, "\(operation.route) is public in the document but \(tag) asked for a token: \(reply.text)")
                } else {
                    #expect(reply.status == 401, "\(operation.route) needs a token in the document but \(tag) answered \(reply.status): \(reply.text)")
                    #expect(reply.header("Content-Type") == "application/problem+json", "\(operation.route)")
                }
            }
            _ = try await notifications.terminate()
            _ = try await orders.terminate()
            try await core.stop()
        }
    }
}
