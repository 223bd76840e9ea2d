import HTTPTypes
import OpenAPIRuntime

/// Reads a request body up to ``JSONBody/maximumRequestBytes`` before the generated code
/// decodes it; a larger one is a 413 problem (the runtime itself would read any size). An empty
/// body is passed on as no body: Hummingbird hands every request a body, and the runtime would
/// try to decode an empty one where the operation's body is optional (logout, suspend).
struct RequestBodyLimit: ServerMiddleware {
    func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        guard let body else { return try await next(request, nil, metadata) }
        let bytes: ArraySlice<UInt8>
        do {
            bytes = try await ArraySlice(collecting: body, upTo: JSONBody.maximumRequestBytes)
        } catch {
            throw ProblemDetails(status: .contentTooLarge, type: "/problems/body-too-large", title: "Body too large",
                                 detail: "The request body is larger than \(JSONBody.maximumRequestBytes) bytes.")
        }
        return try await next(request, bytes.isEmpty ? nil : HTTPBody(bytes), metadata)
    }
}
