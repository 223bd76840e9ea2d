@testable import Gateway
import HTTPTypes
import Testing

@Suite("Event-loop path eligibility")
struct FastPathEligibilityTests {
    let table = RouteTable()

    func get(_ path: String, _ fields: HTTPFields = [:]) -> HTTPRequest {
        HTTPRequest(method: .get, scheme: nil, authority: "gw", path: path, headerFields: fields)
    }

    @Test("a plain GET to a proxied route takes it, query or not, public or authenticated")
    func takesPlainGets() {
        for path in ["/api/v1/users/me", "/api/v1/products?limit=5", "/.well-known/jwks.json", "/api/v1/orders/abc/saga"] {
            #expect(FastPathEligibility.accepts(get(path), table: table), "\(path)")
        }
        #expect(FastPathEligibility.accepts(get("/api/v1/users/me", [.contentLength: "0"]), table: table))
        #expect(FastPathEligibility.accepts(get("/api/v1/users/me", [.connection: "keep-alive"]), table: table))
    }

    @Test("other methods, bodies, Connection and Upgrade headers, event streams and unrouted paths go to the router")
    func leavesTheRest() {
        for method: HTTPRequest.Method in [.post, .head, .put, .patch, .delete, .options] {
            #expect(!FastPathEligibility.accepts(HTTPRequest(method: method, scheme: nil, authority: "gw", path: "/api/v1/users/me"), table: table))
        }
        let refused: [HTTPFields] = [
            [.contentLength: "12"], [.transferEncoding: "chunked"], [.connection: "close"], [.connection: "keep-alive, Upgrade"],
            [.upgrade: "websocket"], [.accept: "text/event-stream"],
        ]
        for fields in refused {
            #expect(!FastPathEligibility.accepts(get("/api/v1/notifications/stream", fields), table: table), "\(fields)")
        }
        for path in ["/api/v1/nothing-here", "/health", "/openapi.yaml", "/docs", "/metrics"] {
            #expect(!FastPathEligibility.accepts(get(path), table: table), "\(path)")
        }
    }

    @Test("the query is cut at the first question mark")
    func pathWithoutQuery() {
        #expect(FastPathEligibility.pathWithoutQuery("/api/v1/products?limit=5&x=?") == "/api/v1/products")
        #expect(FastPathEligibility.pathWithoutQuery("/api/v1/products") == "/api/v1/products")
    }
}
