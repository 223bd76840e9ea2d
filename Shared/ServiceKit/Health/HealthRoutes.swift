import Foundation
public import Hummingbird

extension Router where Context == AppRequestContext {
    /// Adds `GET /health` (liveness: the process answers) and `GET /health/ready`
    /// (readiness: every dependency answered within the probe's timeout; 503 otherwise).
    @discardableResult
    public func addHealthRoutes(service: String, readiness: ReadinessProbe) -> Self {
        get("health") { _, _ -> Response in
            Self.json(["status": "ok", "service": service], status: .ok)
        }
        get("health/ready") { _, _ -> Response in
            let report = await readiness.run()
            return Self.json(report, status: report.isReady ? .ok : .serviceUnavailable)
        }
        return self
    }

    private static func json(_ value: some Encodable, status: HTTPResponse.Status) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        return Response(
            status: status,
            headers: [.contentType: "application/json", .cacheControl: "no-store"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}
