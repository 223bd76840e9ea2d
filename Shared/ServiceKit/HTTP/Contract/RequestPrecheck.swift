public import HTTPTypes
import HummingbirdCore
public import OpenAPIRuntime

/// A check of a request's raw parameters that runs before the generated code decodes them, so
/// that a malformed value gets OrderFlow's field-level 400 problem instead of the runtime's
/// decoding error (which names no parameter: `limit=abc`, a missing `Idempotency-Key`).
public struct RequestPrecheck: Sendable {
    let check: @Sendable (HTTPRequest) throws -> Void

    /// A check that throws a problem for a bad request.
    public init(_ check: @escaping @Sendable (HTTPRequest) throws -> Void) {
        self.check = check
    }

    /// `limit` and `cursor` of a cursor-paginated list (``PageRequest``).
    public static let page = RequestPrecheck { request in _ = try PageRequest.parse(URI(request.path ?? "")) }

    /// The `Idempotency-Key` header (``IdempotencyKey``).
    public static let idempotencyKey = RequestPrecheck { request in _ = try IdempotencyKey.require(in: request.headerFields) }
}
