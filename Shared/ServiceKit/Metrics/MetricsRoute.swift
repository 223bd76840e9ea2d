public import Hummingbird

extension Router {
    /// Adds `GET /metrics` in the Prometheus text exposition format (version 0.0.4).
    @discardableResult
    public func addMetricsRoute() -> Self {
        get("metrics") { _, _ -> Response in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: MetricsRegistry.render()))
            )
        }
        return self
    }
}
