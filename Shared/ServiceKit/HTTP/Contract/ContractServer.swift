public import OpenAPIRuntime

/// What every service's generated server stubs share: the runtime configuration matching
/// ``JSONBody``'s conventions and the middlewares generated operations run inside.
///
/// ```swift
/// try handler.registerHandlers(on: router, configuration: ContractServer.configuration,
///                              middlewares: ContractServer.middlewares(paginated: ["listThings"]))
/// ```
public enum ContractServer {
    /// Dates with fractional seconds (as ``JSONBody/encoder`` writes them and clients send them).
    public static let configuration = Configuration(dateTranscoder: .iso8601WithFractionalSeconds)

    /// ``CurrentRequestMiddleware``, then ``PageQueryValidation`` for the operations listed in
    /// `paginated`.
    public static func middlewares(paginated: Set<String>) -> [any ServerMiddleware] {
        [CurrentRequestMiddleware(), PageQueryValidation(operationIDs: paginated)]
    }
}
