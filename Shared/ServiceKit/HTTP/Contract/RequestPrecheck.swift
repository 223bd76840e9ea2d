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

    /// A query parameter that, when present, must be one of `values` (an enum the runtime would
    /// otherwise refuse without naming the parameter); a 400 naming it and the values otherwise.
    public static func oneOf(queryParameter name: String, values: [String]) -> RequestPrecheck {
        RequestPrecheck { request in
            guard let raw = URI(request.path ?? "").queryParameters.get(name) else { return }
            guard values.contains(String(raw)) else {
                throw ProblemDetails.validation([.init(field: name, message: "must be one of \(values.joined(separator: ", "))")])
            }
        }
    }

    /// The `Idempotency-Key` header (``IdempotencyKey``).
    public static let idempotencyKey = RequestPrecheck { request in _ = try IdempotencyKey.require(in: request.headerFields) }
}
