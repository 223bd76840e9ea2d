import HTTPTypes

/// Where a request goes and what it needs: a pure function of method and path, unit-tested.
///
/// `/api/v1/<area>/**` belongs to the area's owning service; `/.well-known/jwks.json` to users.
/// Public operations (register, login, refresh, the catalogue, the JWKS) need no token; every
/// other proxied operation does. GET and HEAD spend from the read bucket, everything else from
/// the write bucket.
struct RouteTable: Sendable {
    /// What the gateway does with one request.
    struct Route: Sendable, Equatable {
        var upstream: UpstreamName
        var access: Access
        var rateClass: RateLimitClass
        /// A low-cardinality label for metrics: the area, e.g. `/api/v1/orders/**`.
        var label: String
    }

    /// Whether a request needs a verified bearer token.
    enum Access: Sendable, Equatable {
        case anonymous
        case authenticated
    }

    static let apiPrefix = "/api/v1/"
    static let jwksPath = "/.well-known/jwks.json"

    /// The area → service map.
    static let areas: [String: UpstreamName] = [
        "users": .users, "auth": .users,
        "wallet": .payments, "payments": .payments,
        "products": .orders, "orders": .orders,
        "notifications": .notifications,
    ]

    /// Operations anyone may call.
    static let publicOperations: Set<Operation> = [
        Operation(.post, "/api/v1/users"),
        Operation(.post, "/api/v1/auth/tokens"),
        Operation(.post, "/api/v1/auth/refresh"),
        Operation(.get, "/api/v1/products"),
        Operation(.head, "/api/v1/products"),
        Operation(.get, jwksPath),
        Operation(.head, jwksPath),
    ]

    /// A method and an exact path.
    struct Operation: Hashable, Sendable {
        var method: HTTPRequest.Method
        var path: String
        init(_ method: HTTPRequest.Method, _ path: String) {
            self.method = method
            self.path = path
        }
    }

    /// The route for `method` and `path` (without the query), or nil when no service owns it.
    func route(method: HTTPRequest.Method, path: String) -> Route? {
        let upstream: UpstreamName
        let label: String
        if path == Self.jwksPath {
            upstream = .users
            label = Self.jwksPath
        } else if path.hasPrefix(Self.apiPrefix) {
            let area = path.dropFirst(Self.apiPrefix.count).prefix { $0 != "/" }
            guard !area.isEmpty, let owner = Self.areas[String(area)] else { return nil }
            upstream = owner
            label = "\(Self.apiPrefix)\(area)/**"
        } else {
            return nil
        }
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let access: Access = Self.publicOperations.contains(Operation(method, trimmed)) ? .anonymous : .authenticated
        return Route(upstream: upstream, access: access, rateClass: RateLimitClass(method: method), label: label)
    }
}
