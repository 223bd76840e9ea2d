public import HTTPTypes
public import OpenAPIRuntime

/// The request a generated operation handler is serving, for what the generated `Input` leaves
/// out: the bearer token (a security scheme, not a parameter) and the request id that
/// ``RequestIDMiddleware`` accepted or generated.
///
/// Bound by ``CurrentRequestMiddleware`` for the duration of one operation.
public enum CurrentRequest {
    /// The request's header fields; empty outside an operation.
    @TaskLocal public static var headerFields: HTTPFields = [:]

    /// The request id (``RequestIDMiddleware`` writes it into the request before any handler
    /// runs); empty outside an operation.
    public static var requestID: String { headerFields[RequestIDMiddleware.headerName] ?? "" }
}

/// Binds ``CurrentRequest`` around every generated operation. Pass it in the `middlewares` of a
/// generated `registerHandlers(on:serverURL:configuration:middlewares:)`.
public struct CurrentRequestMiddleware: ServerMiddleware {
    /// Creates the middleware.
    public init() {}

    public func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        try await CurrentRequest.$headerFields.withValue(request.headerFields) {
            try await next(request, body, metadata)
        }
    }
}
