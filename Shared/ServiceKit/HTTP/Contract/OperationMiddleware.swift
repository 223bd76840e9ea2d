public import HTTPTypes
import Foundation
public import OpenAPIRuntime

/// What OrderFlow adds around every generated operation, before the runtime decodes the
/// request and after it encodes the response. In order:
///
/// 0. the ``OperationGate``: who may call the operation (401/403 before anything else);
/// 1. the operation's ``RequestPrecheck``s (field-level 400s the runtime cannot give);
/// 2. the body read up to ``JSONBody/maximumRequestBytes`` (413 above; the runtime would read
///    any size), an empty body passed on as *no* body (Hummingbird gives every request one, and
///    the runtime would try to decode it where the body is optional: logout, suspend);
/// 3. `Accept` dropped: the generated code checks it only *after* the handler ran, so a
///    deposit or a token rotation would take effect and then answer 406. Operations answer
///    their one documented type, as the hand-written routes did;
/// 4. ``CurrentRequest`` bound for the handler (header fields and the gate's caller);
/// 5. response header values percent-decoded: the generated serializer percent-encodes them
///    (`Location: %2Fapi%2Fv1…`, `Cache-Control: max-age%3D60`). No value OrderFlow sets
///    contains a literal `%`.
public struct OperationMiddleware: ServerMiddleware {
    private let prechecks: [String: [RequestPrecheck]]
    private let gate: OperationGate

    /// Runs `gate`, then `prechecks[operationID]`, for each operation.
    public init(prechecks: [String: [RequestPrecheck]], gate: OperationGate) {
        self.prechecks = prechecks
        self.gate = gate
    }

    public func intercept(
        _ request: HTTPRequest,
        body: HTTPBody?,
        metadata: ServerRequestMetadata,
        operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, ServerRequestMetadata) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        let caller = try await gate.admit(operationID, request.headerFields)
        for precheck in prechecks[operationID] ?? [] { try precheck.check(request) }
        let limitedBody = try await Self.limited(body)
        var request = request
        request.headerFields[.accept] = nil
        var (response, responseBody) = try await CurrentRequest.$caller.withValue(caller) {
            try await CurrentRequest.$headerFields.withValue(request.headerFields) {
                try await next(request, limitedBody, metadata)
            }
        }
        response.headerFields = HTTPFields(response.headerFields.map { field in
            HTTPField(name: field.name, value: field.value.removingPercentEncoding ?? field.value)
        })
        return (response, responseBody)
    }

    /// The body's bytes (nil when empty), or the 413 problem once more than the limit arrived.
    private static func limited(_ body: HTTPBody?) async throws -> HTTPBody? {
        guard let body else { return nil }
        var bytes: [UInt8] = []
        for try await chunk in body {
            guard bytes.count + chunk.count <= JSONBody.maximumRequestBytes else {
                throw ProblemDetails.bodyTooLarge(limit: JSONBody.maximumRequestBytes)
            }
            bytes.append(contentsOf: chunk)
        }
        return bytes.isEmpty ? nil : HTTPBody(bytes)
    }
}
