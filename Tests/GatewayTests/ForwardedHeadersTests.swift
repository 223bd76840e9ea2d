@testable import Gateway
import HTTPTypes
import ServiceKit
import Testing

@Suite("Headers across the gateway")
struct ForwardedHeadersTests {
    @Test("hop-by-hop headers, headers the Connection header names and client-set identity headers do not cross")
    func requestHeaders() throws {
        let custom = try #require(HTTPField.Name("X-Custom"))
        let secret = try #require(HTTPField.Name("X-Secret-Hop"))
        let incoming: HTTPFields = [
            .authorization: "Bearer t", .contentType: "application/json", custom: "kept",
            .connection: "keep-alive, X-Secret-Hop", secret: "dropped", .transferEncoding: "chunked", .te: "trailers",
            .authenticatedUserID: "forged", .authenticatedRoles: "admin", .contentLength: "12",
            .forwardedFor: "10.0.0.1", .forwardedProto: "https",
        ]
        let outgoing = ForwardedHeaders.upstreamRequest(from: incoming)
        #expect(outgoing[.authorization] == "Bearer t" && outgoing[.contentType] == "application/json" && outgoing[custom] == "kept")
        for name in [HTTPField.Name.connection, secret, .transferEncoding, .te, .authenticatedUserID, .authenticatedRoles, .contentLength,
                     .forwardedFor, .forwardedProto] {
            #expect(outgoing[name] == nil, "\(name)")
        }
    }

    @Test("responses lose only hop-by-hop headers")
    func responseHeaders() {
        let incoming: HTTPFields = [.contentType: "text/event-stream", .connection: "close", .transferEncoding: "chunked", .requestID: "r"]
        let outgoing = ForwardedHeaders.clientResponse(from: incoming)
        #expect(outgoing == [.contentType: "text/event-stream", .requestID: "r"])
    }
}
