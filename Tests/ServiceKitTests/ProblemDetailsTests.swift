import Foundation
import Hummingbird
import HummingbirdTesting
import Logging
@testable import ServiceKit
import Testing

/// Every error leaves as RFC 9457 problem+json, and internals never do.
@Suite("problem+json and request ids")
struct ProblemDetailsTests {
    struct SecretDatabaseError: Error, CustomStringConvertible {
        var description: String { "ERROR: relation \"users.password_hash\" in SELECT * FROM users.users" }
    }

    private func makeApp() -> some ApplicationProtocol {
        let readiness = ReadinessProbe(service: "test", checks: [], logger: Logger(label: "test"))
        let router = Router<AppRequestContext>.service("test", readiness: readiness, tracing: false)
        router.get("boom") { _, _ -> String in throw SecretDatabaseError() }
        router.post("validate") { _, _ -> String in
            throw ProblemDetails.validation([.init(field: "email", message: "must be an email address")])
        }
        router.get("conflict") { _, _ -> String in
            throw ProblemDetails(status: .conflict, type: "/problems/duplicate", detail: "The email is already registered.")
        }
        return Application(router: router)
    }

    private func decode(_ response: TestResponse) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any])
    }

    @Test("an unknown route is a 404 problem with instance and request id")
    func unknownRoute() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/nowhere", method: .get) { response in
                #expect(response.status == .notFound)
                #expect(response.headers[.contentType] == "application/problem+json")
                let body = try decode(response)
                #expect(body["status"] as? Int == 404)
                #expect(body["title"] as? String == "Not Found")
                #expect(body["type"] as? String == "about:blank")
                #expect(body["instance"] as? String == "/nowhere")
                let requestID = try #require(response.headers[RequestIDMiddleware.headerName])
                #expect(body["request_id"] as? String == requestID)
            }
        }
    }

    @Test("validation problems carry field errors")
    func validation() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/validate", method: .post) { response in
                #expect(response.status == .badRequest)
                let body = try decode(response)
                #expect(body["type"] as? String == "/problems/validation")
                let errors = try #require(body["errors"] as? [[String: String]])
                #expect(errors == [["field": "email", "message": "must be an email address"]])
            }
            try await client.execute(uri: "/conflict", method: .get) { response in
                #expect(response.status == .conflict)
                let body = try decode(response)
                #expect(body["detail"] as? String == "The email is already registered.")
            }
        }
    }

    @Test("an unexpected error is a bare 500 problem: no message, type names or SQL")
    func unexpectedError() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/boom", method: .get, headers: [RequestIDMiddleware.headerName: "req-42"]) { response in
                #expect(response.status == .internalServerError)
                let text = String(buffer: response.body)
                #expect(!text.contains("SELECT"))
                #expect(!text.contains("password_hash"))
                #expect(!text.contains("SecretDatabaseError"))
                let body = try decode(response)
                #expect(Set(body.keys) == ["type", "title", "status", "detail", "instance", "request_id"])
                #expect(body["request_id"] as? String == "req-42")
            }
        }
    }

    @Test("a well-formed X-Request-ID is echoed; a malformed one is replaced")
    func requestIDs() async throws {
        try await makeApp().test(.router) { client in
            try await client.execute(uri: "/health", method: .get, headers: [RequestIDMiddleware.headerName: "abc-123.x:y_z"]) { response in
                #expect(response.headers[RequestIDMiddleware.headerName] == "abc-123.x:y_z")
            }
            let hostile = "bad id\" {}" + String(repeating: "x", count: 200)
            try await client.execute(uri: "/health", method: .get, headers: [RequestIDMiddleware.headerName: hostile]) { response in
                let echoed = try #require(response.headers[RequestIDMiddleware.headerName])
                #expect(echoed != hostile)
                #expect(UUID(uuidString: echoed) != nil)
            }
        }
    }
}
