public import HTTPTypes
import HummingbirdCore
public import OpenAPIRuntime

/// Checks `limit` and `cursor` of the listed (paginated) operations before the generated code
/// decodes them, so that `limit=abc` — which the runtime would refuse with a decoding error
/// naming no parameter — gets the same field-level 400 problem as `limit=0`.
public struct PageQueryValidation: ServerMiddleware {
    private let operations: Set<String>

    /// Validates the operations whose ids are in `operationIDs` (others pass untouched).
    public init(operationIDs: Set<String>) {
        self.operations = operationIDs
    }

    public func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        if operations.contains(operationID) { _ = try PageRequest.parse(URI(request.path ?? "")) }
        return try await next(request, body, metadata)
    }
}
