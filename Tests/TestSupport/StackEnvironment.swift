import Foundation
import Testing

/// Values from the throwaway stack `make test` started.
public enum StackEnvironment {
    public static func value(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name], "\(name) is not set: run the tests with `make test`")
    }

    /// The environment a service needs against the shared test stack. Services that verify
    /// tokens fetch the keys from `jwksURL` (users' JWKS; any URL when the test does not
    /// authenticate).
    public static func serviceEnvironment(_ service: String, jwksURL: String = "http://127.0.0.1:9/.well-known/jwks.json") throws -> [String: String] {
        if service == "gateway" {
            // Upstreams on the discard port: tests that need real ones override these.
            var environment = ["REDIS_URL": try value("ORDERFLOW_REDIS_URL"), "JWT_JWKS_URL": jwksURL]
            for upstream in ["USERS", "ORDERS", "PAYMENTS", "NOTIFICATIONS"] { environment["GATEWAY_\(upstream)_URL"] = "http://127.0.0.1:9" }
            return environment
        }
        var environment = [
            "DATABASE_URL": try value("ORDERFLOW_\(service.uppercased())_DATABASE_URL"),
            "KAFKA_BROKERS": try value("ORDERFLOW_KAFKA_BROKERS"),
            "REDIS_URL": try value("ORDERFLOW_REDIS_URL"),
            // Tansu holds a joining member for the rebalance timeout: keep group timeouts short.
            "KAFKA_SESSION_TIMEOUT_MS": "6000",
            "KAFKA_MAX_POLL_INTERVAL_MS": "10000",
        ]
        if service == "users" {
            environment["JWT_SIGNING_KEYS_FILE"] = try value("ORDERFLOW_JWT_SIGNING_KEYS_FILE")
            environment["USERS_ADMIN_EMAIL"] = try value("ORDERFLOW_ADMIN_EMAIL")
            environment["USERS_ADMIN_PASSWORD"] = try value("ORDERFLOW_ADMIN_PASSWORD")
            environment["BCRYPT_COST"] = "6"
        } else {
            environment["JWT_JWKS_URL"] = jwksURL
        }
        return environment
    }
}
