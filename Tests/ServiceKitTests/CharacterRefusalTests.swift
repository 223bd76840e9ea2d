import HTTPTypes
import Logging
import PostgresNIO
@testable import ServiceKit
import Testing

/// Client strings that Postgres text cannot hold (NUL) never become a 500: the shared parsers
/// refuse them, and a query that meets one anyway is the client's 400.
@Suite("Characters Postgres cannot store")
struct CharacterRefusalTests {
    @Test("a cursor round-trips; a forged one holding a control character is not ours")
    func cursors() {
        #expect(PageCursor.decode(PageCursor.encode("SKU-001")) == "SKU-001")
        #expect(PageCursor.decode(PageCursor.encode("a\u{0}b")) == nil)
        #expect(PageCursor.decode(PageCursor.encode("a\u{1B}b")) == nil)
        #expect(PageCursor.decode("YzE6AA") == nil, "base64url of \"c1:\\0\"")
        #expect(PageCursor.decode("not a cursor") == nil)
    }

    // Control characters never reach a header value here: HTTPTypes replaces them when the field
    // is made, so the cases below are the ones a client can actually send.
    @Test("an Idempotency-Key is 1-255 visible ASCII characters", arguments: [
        ("0193a1c0-1111-7222-8333-444455556666", true), ("a", true), (String(repeating: "k", count: 255), true),
        ("", false), (String(repeating: "k", count: 256), false), ("with space", false), ("clé", false),
    ])
    func idempotencyKeys(_ key: String, _ accepted: Bool) {
        var fields = HTTPFields()
        fields[.idempotencyKey] = key
        #expect((try? IdempotencyKey.require(in: fields)) == (accepted ? key : nil))
    }

    @Test("Postgres refusing a NUL in a text parameter is a 400 problem; another database error stays a bare 500")
    func databaseRefusal() async throws {
        try await TestStack.withClient(try TestStack.adminURL()) { client in
            let logger = Logger(label: "tests", factory: { _ in SwiftLogNoOpLogHandler() })
            let withNul = "a\u{0}b"
            do {
                _ = try await client.query("SELECT \(withNul)::text", logger: logger).collect()
                Issue.record("Postgres accepted a NUL in text")
            } catch {
                let problem = ProblemMiddleware.problem(for: error, logger: logger)
                #expect(problem.status == 400 && problem.detail?.contains("NUL") == true, "\(problem)")
            }
            do {
                _ = try await client.query("SELECT 1 / \(0)", logger: logger).collect()
                Issue.record("Postgres divided by zero")
            } catch {
                #expect(ProblemMiddleware.problem(for: error, logger: logger).status == 500)
            }
        }
    }
}
