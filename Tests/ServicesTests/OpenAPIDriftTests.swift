import Foundation
import TestSupport
import Testing

/// `openapi.yaml` and the code cannot drift: every operation in the document has a route in
/// the service its tag names, and every route a service registers has an operation (each
/// executable prints its routes with `--print-routes` and exits without serving).
@Suite("OpenAPI document ↔ routes")
struct OpenAPIDriftTests {
    /// Routes every service has that belong to operations, not to the public API.
    static let operational: Set<String> = ["GET /health", "GET /health/ready", "GET /metrics"]
    /// The gateway's proxy routes: they forward the data services' operations.
    static let proxy: Set<String> = ["GET /api/v1/**", "HEAD /api/v1/**", "POST /api/v1/**", "PUT /api/v1/**", "PATCH /api/v1/**",
                                     "DELETE /api/v1/**", "OPTIONS /api/v1/**", "GET /.well-known/jwks.json", "HEAD /.well-known/jwks.json"]

    @Test("every operation has a route in its service, and every route an operation", arguments: ["users", "orders", "payments", "notifications", "gateway"])
    func noDrift(_ service: String) throws {
        let operations = try Self.operationsByTag()
        let documented = operations[service] ?? []
        #expect(documented.count >= (service == "gateway" ? 5 : 3), "the scanner found too few \(service) operations: \(documented)")
        var routes = Set(try Self.routes(of: service))
        if service == "gateway" {
            #expect(Self.proxy.isSubset(of: routes), "the gateway lost a proxy route: \(routes)")
            routes.subtract(Self.proxy)
        } else {
            #expect(Self.operational.isSubset(of: routes))
            routes.subtract(Self.operational)
        }
        #expect(documented.subtracting(routes).isEmpty, "documented for \(service) but not routed: \(documented.subtracting(routes).sorted())")
        #expect(routes.subtracting(documented).isEmpty, "routed by \(service) but not documented: \(routes.subtracting(documented).sorted())")
    }

    /// `METHOD /path` of every operation in `openapi.yaml`, by tag.
    static func operationsByTag() throws -> [String: Set<String>] {
        var result: [String: Set<String>] = [:]
        for operation in try documentOperations() {
            for tag in operation.tags { result[tag, default: []].insert(operation.route) }
        }
        return result
    }

    /// One operation of the document, as the line scanner below reads it.
    struct DocumentOperation: Sendable {
        let method: String
        let path: String
        var tags: [String] = []
        /// `security: []`: callable without a token.
        var isPublic = false
        var route: String { "\(method) \(path)" }
    }

    /// Every operation in `openapi.yaml`.
    ///
    /// A line scanner, not a YAML parser: it relies on the document's block style (paths at two
    /// spaces, methods at four, `tags: [name]` and `security: []` at six), which the validator in
    /// `make fuzz` and the gateway's `/openapi.yaml` test keep honest; a reformatted document
    /// fails the count checks of the tests rather than passing silently.
    static func documentOperations() throws -> [DocumentOperation] {
        let root = try #require(ProcessInfo.processInfo.environment["ORDERFLOW_ROOT"], "ORDERFLOW_ROOT is not set: run with `make test`")
        let text = try String(contentsOfFile: root + "/Shared/Contracts/OpenAPI/openapi.yaml", encoding: .utf8)
        let methods: Set<String> = ["get", "put", "post", "delete", "patch", "head", "options"]
        var operations: [DocumentOperation] = []
        var inPaths = false, path: String?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init) {
            if !line.hasPrefix(" "), !line.hasPrefix("#"), !line.isEmpty { inPaths = line == "paths:"; continue }
            guard inPaths else { continue }
            if line.hasPrefix("  /"), !line.hasPrefix("   "), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"), let path {
                let method = String(line.dropFirst(4).dropLast())
                if methods.contains(method) { operations.append(DocumentOperation(method: method.uppercased(), path: path)) }
            } else if line.hasPrefix("      tags: ["), !operations.isEmpty {
                operations[operations.count - 1].tags = line.drop { $0 != "[" }.dropFirst().prefix { $0 != "]" }
                    .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
            } else if line == "      security: []", !operations.isEmpty {
                operations[operations.count - 1].isPublic = true
            }
        }
        return operations
    }

    /// The routes `service` registers, from `<service> --print-routes`.
    static func routes(of service: String) throws -> [String] {
        let process = Process()
        process.executableURL = try ServiceProcess.binary(service)
        process.arguments = ["--print-routes"]
        var environment = try StackEnvironment.serviceEnvironment(service)
        let inherited = ProcessInfo.processInfo.environment
        for key in ["PATH", "LD_LIBRARY_PATH", "DYLD_LIBRARY_PATH"] { environment[key] = inherited[key] }
        process.environment = environment
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("of-routes-\(service)-\(UUID().uuidString.prefix(8))")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: output) }
        let errors = output.appendingPathExtension("stderr")
        _ = FileManager.default.createFile(atPath: errors.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: errors) }
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = try FileHandle(forWritingTo: errors)
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while process.isRunning, Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
        if process.isRunning { process.terminate() }
        let stderr = (try? String(contentsOf: errors, encoding: .utf8)) ?? ""
        try #require(!process.isRunning, "\(service) --print-routes did not exit within 60 s: \(stderr)")
        try #require(process.terminationStatus == 0, "\(service) --print-routes exited \(process.terminationStatus): \(stderr)")
        // The listing is the last line: a log line the service writes while it is built (logs go
        // to standard output too) comes before it.
        let printed = (try? String(contentsOf: output, encoding: .utf8)) ?? ""
        let listing = printed.split(separator: "\n").last { $0.hasPrefix("[") }.map(String.init) ?? ""
        let routes = try JSONSerialization.jsonObject(with: Data(listing.utf8)) as? [String]
        return try #require(routes, "\(service) printed no route list: \(printed)")
    }
}
