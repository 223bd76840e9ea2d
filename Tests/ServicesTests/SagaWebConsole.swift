import Foundation
import TestSupport
import Testing

/// `deploy/demo/sagas.py --web`, the saga console's pages, served for a test fleet's gateway.
struct SagaWebConsole {
    let process: ServiceProcess
    /// The cookie the printed address's key stands for (a browser gets it by opening that address).
    let cookie: [String: String]

    /// Starts the pages on a free port and waits until they are served.
    static func start(gateway port: Int) async throws -> SagaWebConsole {
        let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
        let webPort = try FreePort.reserve()
        let web = try ServiceProcess("sagas-web", executable: URL(fileURLWithPath: "/usr/bin/env"), arguments: [
            "python3", "\(root)/deploy/demo/sagas.py", "--web", "--port", String(webPort),
            "--gateway", "http://127.0.0.1:\(port)", "--stack-dir", try StackEnvironment.value("ORDERFLOW_STACK_DIR"),
        ], port: webPort, environment: [:])
        try await web.waitForLog("Saga console on http://127.0.0.1:\(webPort)/?key=")
        let key = try #require(web.log.firstMatch(of: /\?key=([A-Za-z0-9_-]+)/).map { String($0.1) })
        return SagaWebConsole(process: web, cookie: ["Cookie": "orderflow_sagas=\(key)"])
    }

    /// The form token of a page's forms.
    static func formToken(_ page: String) throws -> String {
        let match = try #require(page.firstMatch(of: /name="csrf" value="([^"]+)"/), "no form token in: \(page)")
        return String(match.1)
    }

    func get(_ path: String) async throws -> ServiceProcess.Reply {
        try await process.request("GET", path, headers: cookie)
    }

    /// Posts a form as a browser would; the answer is the page a redirect leads to.
    func post(_ path: String, _ fields: [String: String]) async throws -> ServiceProcess.Reply {
        try await process.request("POST", path, headers: cookie, form: fields)
    }

    /// Places an order in the lab and waits until its page says every saga has finished.
    func placeAndSettle(token: String, product: String) async throws -> (id: String, page: String) {
        let placed = try await post("/lab/orders", ["csrf": token, "product_id": product, "quantity": "1"]).text
        let id = try #require(placed.firstMatch(of: /<code class="order-id">([0-9a-f-]{36})</).map { String($0.1) }, "no order page: \(placed)")
        return (id, try await settledPage(id))
    }

    /// An order's page once it says the order is settled and every saga of it has finished.
    func settledPage(_ id: String) async throws -> String {
        let page = PageHolder()
        try await Poll.until("order \(id)'s sagas finish on its page", deadline: .seconds(120)) {
            page.text = try await get("/orders/\(id)").text
            return page.text.contains("data-settled")
        }
        return page.text
    }

    private final class PageHolder: @unchecked Sendable {  // written by the poll, read after it
        var text = ""
    }
}
