@testable import Gateway
import HTTPTypes
import Testing

@Suite("Gateway route table")
struct RouteTableTests {
    let table = RouteTable()

    @Test("each area goes to its owning service", arguments: [
        ("/api/v1/users/me", UpstreamName.users), ("/api/v1/auth/tokens", .users), ("/.well-known/jwks.json", .users),
        ("/api/v1/wallet", .payments), ("/api/v1/wallet/deposits", .payments), ("/api/v1/payments/faults", .payments),
        ("/api/v1/products", .orders), ("/api/v1/orders/0193a000-0000-7000-8000-000000000001/saga", .orders),
        ("/api/v1/notifications/stream", .notifications),
    ])
    func owners(_ path: String, _ upstream: UpstreamName) {
        #expect(table.route(method: .get, path: path)?.upstream == upstream)
    }

    @Test("unknown areas and paths outside the API have no route")
    func unknown() {
        for path in ["/api/v1/", "/api/v1/admin", "/api/v2/users", "/users", "/api/v1//users", "/api/v1/usersx/me", "/"] {
            #expect(table.route(method: .get, path: path) == nil, "\(path)")
        }
    }

    @Test("only the listed operations are public; everything else needs a token")
    func access() {
        let anonymous: [(HTTPRequest.Method, String)] = [
            (.post, "/api/v1/users"), (.post, "/api/v1/users/"), (.post, "/api/v1/auth/tokens"), (.post, "/api/v1/auth/refresh"),
            (.get, "/api/v1/products"), (.get, "/.well-known/jwks.json"),
        ]
        for (method, path) in anonymous { #expect(table.route(method: method, path: path)?.access == .anonymous, "\(method) \(path)") }
        let guarded: [(HTTPRequest.Method, String)] = [
            (.get, "/api/v1/users"), (.post, "/api/v1/auth/logout"), (.delete, "/api/v1/products"), (.post, "/api/v1/products"),
            (.get, "/api/v1/users/me"), (.post, "/api/v1/orders"), (.get, "/api/v1/products/x"), (.put, "/api/v1/payments/faults"),
        ]
        for (method, path) in guarded { #expect(table.route(method: method, path: path)?.access == .authenticated, "\(method) \(path)") }
    }

    @Test("reads and writes spend from different buckets; metrics use the area, not the full path")
    func classesAndLabels() {
        #expect(table.route(method: .get, path: "/api/v1/orders")?.rateClass == .read)
        #expect(table.route(method: .head, path: "/api/v1/orders")?.rateClass == .read)
        for method: HTTPRequest.Method in [.post, .put, .patch, .delete] {
            #expect(table.route(method: method, path: "/api/v1/orders")?.rateClass == .write)
        }
        #expect(table.route(method: .get, path: "/api/v1/orders/0193a000-0000-7000-8000-000000000001")?.label == "/api/v1/orders/**")
    }
}
