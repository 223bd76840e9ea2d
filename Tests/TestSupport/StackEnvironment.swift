import Foundation
import Testing

/// Values from the throwaway stack `make test` started.
public enum StackEnvironment {
    public static func value(_ name: String) throws -> String {
        try #require(ProcessInfo.processInfo.environment[name], "\(name) is not set: run the tests with `make test`")
    }

    /// The environment a service needs against the shared test stack.
    public static func serviceEnvironment(_ service: String) throws -> [String: String] {
        if service == "gateway" {
            return ["REDIS_URL": try value("ORDERFLOW_REDIS_URL")]
        }
        return [
            "DATABASE_URL": try value("ORDERFLOW_\(service.uppercased())_DATABASE_URL"),
            "KAFKA_BROKERS": try value("ORDERFLOW_KAFKA_BROKERS"),
        ]
    }
}
