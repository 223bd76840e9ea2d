public import Hummingbird

extension Router where Context == AppRequestContext {
    /// A router with OrderFlow's standard middleware and operational routes.
    ///
    /// Middleware, outermost first: `edge` (when given) → request id → problem+json → RED metrics
    /// per route → tracing. Routes: `GET /health`, `GET /health/ready`, `GET /metrics`.
    /// - Parameter edge: Middleware that sees every response, problems included (the gateway's
    ///   security headers and CORS).
    public static func service(
        _ service: String, readiness: ReadinessProbe, edge: (any MiddlewareProtocol<Request, Response, AppRequestContext>)? = nil
    ) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
        if let edge { router.add(middleware: edge) }
        router.addMiddleware {
            RequestIDMiddleware()
            ProblemMiddleware()
            MetricsMiddleware()
            TracingMiddleware()
        }
        router.addHealthRoutes(service: service, readiness: readiness)
        router.addMetricsRoute()
        return router
    }
}
