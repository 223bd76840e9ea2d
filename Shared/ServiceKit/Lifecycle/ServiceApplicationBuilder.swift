public import Hummingbird
public import HummingbirdCore
public import Logging

extension ServiceApplication {
    /// Builds an OrderFlow service: the standard router (request id, problem+json, metrics,
    /// tracing, `/health`, `/health/ready`, `/metrics`), the service's own routes, its database
    /// pool and migrations when it has a database, and the address from ``ServiceSettings``.
    /// - Parameters:
    ///   - common: The settings every service reads.
    ///   - database: The service's database, when it owns a schema.
    ///   - checks: Further readiness checks (Kafka, Redis); Postgres is added when `database` is set.
    ///   - logger: The service logger.
    ///   - edge: Outermost middleware, seeing every response (see ``Router/service(_:readiness:tracing:edge:)``).
    ///   - server: How connections are served (the gateway may pin them to their event loops).
    ///   - routes: Adds the service's own routes.
    public static func orderFlowService(
        _ common: ServiceSettings,
        database: ServiceDatabase?,
        checks: [any DependencyCheck],
        logger: Logger,
        edge: (any MiddlewareProtocol<Request, Response, AppRequestContext>)? = nil,
        server: HTTPServerBuilder = .http1(),
        routes: (Router<AppRequestContext>) throws -> Void = { _ in }
    ) rethrows -> ServiceApplication {
        let allChecks: [any DependencyCheck] = (database.map { [PostgresCheck(client: $0.client)] } ?? []) + checks
        let readiness = ReadinessProbe(service: common.service, checks: allChecks, logger: logger)
        let router = Router<AppRequestContext>.service(
            common.service, readiness: readiness, tracing: common.tracing.otlpEndpoint != nil, edge: edge
        )
        try routes(router)
        if common.printRoutes { RouteListing.printAndExit(router.routes.map { "\($0.method) \($0.path)" }) }
        var app = Application(
            router: router,
            server: server,
            configuration: .init(address: .hostname(common.host, port: common.port), serverName: common.service),
            logger: logger
        )
        if let database { app.addDatabase(database, logger: logger) }
        return app
    }
}
