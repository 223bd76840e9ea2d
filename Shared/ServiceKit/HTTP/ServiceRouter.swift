public import Hummingbird

extension Router where Context == AppRequestContext {
    /// A router with OrderFlow's standard middleware and operational routes.
    ///
    /// Middleware, outermost first: `edge` (when given) → request id → problem+json → RED metrics
    /// per route → tracing (when on). Routes: `GET /health`, `GET /health/ready`, `GET /metrics`;
    /// every `GET` route answers `HEAD` as well.
    /// - Parameters:
    ///   - edge: Middleware that sees every response, problems included (the gateway's
    ///     security headers and CORS).
    ///   - tracing: Whether a tracer is bootstrapped (an OTLP endpoint is set). Without one, the
    ///     tracing middleware would only start no-op spans, so it is left out.
    public static func service(
        _ service: String, readiness: ReadinessProbe, tracing: Bool,
        edge: (any MiddlewareProtocol<Request, Response, AppRequestContext>)? = nil
    ) -> Router<AppRequestContext> {
        // Every GET answers HEAD too (RFC 9110 §9.3.2): the GET's head with its Content-Length, no body.
        let router = Router(context: AppRequestContext.self, options: .autoGenerateHeadEndpoints)
        if let edge { router.add(middleware: edge) }
        router.addMiddleware {
            RequestIDMiddleware()
            ProblemMiddleware()
            MetricsMiddleware()
        }
        if tracing { router.add(middleware: TracingMiddleware()) }
        router.addHealthRoutes(service: service, readiness: readiness)
        router.addMetricsRoute()
        return router
    }
}
