import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import Testing

/// An HTTP server on a loopback port: a process a test started (``ServiceProcess``) or one a
/// script started for it.
struct LoopbackEndpoint: Sendable {
    let port: Int

    /// An HTTP exchange's outcome.
    struct Reply: Sendable {
        let status: Int
        let headers: [String: String]
        let body: Data
        var text: String { String(decoding: body, as: UTF8.self) }
        /// The body as a JSON object (a failed expectation when it is not one).
        func json() throws -> [String: Any] {
            let object = try JSONSerialization.jsonObject(with: body) as? [String: Any]
            return try #require(object, "not a JSON object: \(text)")
        }
        /// A header, by case-insensitive name.
        func header(_ name: String) -> String? {
            headers.first { $0.key.lowercased() == name.lowercased() }?.value
        }
    }

    /// Sends `method path` with `headers` and an optional JSON body, or form fields as a browser
    /// posts them. Redirects are followed; nothing answering throws.
    func request(_ method: String, _ path: String, headers: [String: String] = [:], json: String? = nil,
                 form: [String: String]? = nil) async throws -> Reply {
        var request = URLRequest(url: URL(string: "http://127.0.0.1:\(port)\(path)")!)
        request.httpMethod = method
        request.timeoutInterval = 30
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        if let json {
            request.setValue("application/json", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data(json.utf8)
        }
        if let form {
            var encoded = URLComponents()
            encoded.queryItems = form.map { URLQueryItem(name: $0.key, value: $0.value) }
            request.setValue("application/x-www-form-urlencoded", forHTTPHeaderField: "Content-Type")
            request.httpBody = Data((encoded.percentEncodedQuery ?? "").utf8)
        }
        let (data, response) = try await URLSession.shared.data(for: request)
        let http = try #require(response as? HTTPURLResponse)
        var fields: [String: String] = [:]
        for (key, value) in http.allHeaderFields { fields["\(key)"] = "\(value)" }
        return Reply(status: http.statusCode, headers: fields, body: data)
    }

    /// `POST /api/v1/auth/tokens` (users, or the gateway in front of it): the access and refresh tokens.
    func login(email: String, password: String) async throws -> (access: String, refresh: String) {
        let credentials = try JSONSerialization.data(withJSONObject: ["email": email, "password": password])
        let reply = try await request("POST", "/api/v1/auth/tokens", json: String(decoding: credentials, as: UTF8.self))
        try #require(reply.status == 200, "login: \(reply.status) \(reply.text)")
        let body = try reply.json()
        let access = body["access_token"] as? String, refresh = body["refresh_token"] as? String
        return (try #require(access), try #require(refresh))
    }
}
