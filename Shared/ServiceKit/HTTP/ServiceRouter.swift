public import Hummingbird

extension Router where Context == AppRequestContext {
    /// A router with OrderFlow's standard middleware and operational routes.
    ///
    /// Middleware, outermost first: request id → problem+json → RED metrics per route → tracing.
    /// Routes: `GET /health`, `GET /health/ready`, `GET /metrics`.
    public static func service(_ service: String, readiness: ReadinessProbe) -> Router<AppRequestContext> {
        let router = Router(context: AppRequestContext.self)
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
