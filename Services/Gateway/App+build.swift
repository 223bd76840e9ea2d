import AsyncHTTPClient
import Auth
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import NIOPosix
import Logging
import Metrics
import Redis
import ServiceKit
import ServiceLifecycle

/// Builds the gateway: the public front door. It owns no database; Redis backs its rate limits
/// and the revocation list, users' JWKS its token verification.
///
/// Settings beyond the common ones: ``GatewaySettings`` and ``UpstreamPolicy``, `REDIS_URL`,
/// `JWT_JWKS_URL` (with `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_LEEWAY_SECONDS`).
func buildApplication(settings: Settings, common: ServiceSettings, logger: Logger) async throws -> ServiceApplication {
    let gateway = try GatewaySettings.read(from: settings)
    let redisSettings = try RedisSettings.read(from: settings)
    let verifier = gateway.authEnabled ? try AuthSettings.verifier(from: settings, logger: logger) : nil
    if !gateway.authEnabled { logger.warning("GATEWAY_AUTH=off: bearer tokens are not verified at the gateway (benchmarks only)") }
    if !gateway.rateLimitEnabled { logger.warning("GATEWAY_RATE_LIMIT=off: requests are not rate limited") }

    let redis = RedisClient(configuration: RedisConfiguration(settings: redisSettings, commandTimeout: .milliseconds(500)), logger: logger)
    let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: upstreamClientConfiguration(gateway.policy, tracing: common.tracing.otlpEndpoint != nil)
    )
    let attempts = UpstreamAttempts(policy: gateway.policy, logger: logger)
    let proxy = UpstreamProxy(client: client, upstreams: gateway.upstreams, attempts: attempts)
    let tracing = common.tracing.otlpEndpoint != nil
    let admission = GatewayAdmission(
        verifier: verifier, cacheCapacity: gateway.verifiedTokenCacheSize,
        redis: gateway.authEnabled || gateway.rateLimitEnabled ? redis : nil, settings: gateway,
        speculativeReads: gateway.speculativeReads && gateway.fastPath && !tracing, logger: logger
    )
    let routes = GatewayRoutes(admission: admission, proxy: proxy, maxBodyBytes: gateway.maxBodyBytes, tracingEnabled: tracing)
    let edge = GatewayEdgeMiddleware(corsOrigins: gateway.corsOrigins)
    let idleTimeout = TimeAmount.milliseconds(Int64(gateway.clientIdleTimeoutMs))
    let idleClosed = Counter(label: "gateway_client_idle_closed_total")
    var http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [ClientIdleTimeoutHandler(timeout: idleTimeout, closed: idleClosed)])
    var fastPool: UpstreamChannelPool?
    if gateway.fastPath, !tracing {
        let pool = fastPathPool(gateway)
        fastPool = pool
        let forwarder = FastForwarder(
            routes: routes, attempts: attempts, pool: pool,
            authorities: gateway.upstreams.compactMapValues(\.authority), edge: edge, serverName: common.service
        )
        http1 = HTTP1Channel.Configuration(additionalChannelHandlers: [
            ClientIdleTimeoutHandler(timeout: idleTimeout, closed: idleClosed), GatewayFastPathHandler(forwarder: forwarder),
        ])
    } else if gateway.fastPath {
        logger.notice("tracing is on: every request takes the router path, so that each gets its span (GATEWAY_FAST_PATH has no effect)")
    }

    let upstreamChecks: [any DependencyCheck] = UpstreamName.allCases.compactMap { upstream in
        guard let base = proxy.bases[upstream] else { return nil }
        return UpstreamReadinessCheck(upstream: upstream, url: base, client: client, upstreamGuard: proxy.guards[upstream])
    }
    var app = ServiceApplication.orderFlowService(
        common, database: nil, checks: [RedisPingCheck(settings: redisSettings)] + upstreamChecks, logger: logger,
        edge: edge,
        server: gateway.eventLoopAffinity ? .http1PinnedToEventLoops(configuration: http1) : .http1(configuration: http1)
    ) { router in
        DocsRoutes.add(to: router)
        routes.add(to: router)
    }
    app.addServices(redis, HTTPClientService(client: client))
    if let fastPool { app.addServices(UpstreamChannelPoolService(pool: fastPool)) }
    return app
}

/// The event-loop path's upstream connections, on the loops Hummingbird serves connections on.
func fastPathPool(_ gateway: GatewaySettings) -> UpstreamChannelPool {
    UpstreamChannelPool(
        group: MultiThreadedEventLoopGroup.singleton,
        targets: gateway.upstreams.compactMapValues { url in url.host.map { .init(host: $0, port: url.port ?? 80) } },
        connectTimeout: gateway.policy.connectTimeout,
        maxIdlePerUpstream: gateway.policy.concurrency,
        wholeBodyLimit: UpstreamProxy.wholeBodyLimit,
        bodyIdleTimeout: gateway.policy.requestTimeout
    )
}

extension URL {
    /// `host:port` for a `Host` header.
    var authority: String? {
        host.map { host in port.map { "\(host):\($0)" } ?? host }
    }
}

/// Pooled keep-alive HTTP/1.1 to the upstreams; no redirects, no decompression (bodies pass
/// through untouched), a connect timeout, and enough connections for the concurrency limit.
/// Without `tracing` (no OTLP endpoint) the client starts no spans at all, not even no-op ones.
func upstreamClientConfiguration(_ policy: UpstreamPolicy, tracing: Bool) -> HTTPClient.Configuration {
    var configuration = HTTPClient.Configuration()
    if !tracing { configuration.tracing.tracer = nil }
    configuration.timeout = .init(connect: UpstreamProxy.timeAmount(policy.connectTimeout))
    configuration.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: policy.concurrency)
    // A refused connection fails at once (the proxy retries on its own, within its deadline)
    // instead of being redialled until the connect timeout.
    configuration.connectionPool.retryConnectionEstablishment = false
    configuration.redirectConfiguration = .disallow
    configuration.decompression = .disabled
    configuration.httpVersion = .http1Only
    return configuration
}

/// Shuts the upstream client down after the HTTP server has stopped.
struct HTTPClientService: Service {
    let client: HTTPClient

    func run() async throws {
        try? await gracefulShutdown()
        try await client.shutdown()
    }
}

/// Closes the event-loop path's idle upstream connections after the HTTP server has stopped.
struct UpstreamChannelPoolService: Service {
    let pool: UpstreamChannelPool

    func run() async throws {
        try? await gracefulShutdown()
        await pool.closeIdleConnections()
    }
}
