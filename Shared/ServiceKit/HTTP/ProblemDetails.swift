import Foundation
public import Hummingbird

/// An RFC 9457 problem: the body of every OrderFlow error response (`application/problem+json`).
///
/// Throw one from a route to answer with it; ``ProblemMiddleware`` fills in `instance` and
/// the request id, and turns every other error into a problem too.
public struct ProblemDetails: Error, Sendable, Equatable, Codable {
    /// A URI reference naming the problem type (`/problems/validation`), or `about:blank`.
    public var type: String
    /// A short, human summary of the type.
    public var title: String
    /// The HTTP status code.
    public var status: Int
    /// A human explanation of this occurrence; never contains internals.
    public var detail: String?
    /// The request path this occurrence is about.
    public var instance: String?
    /// The request id (also in `X-Request-ID`).
    public var requestID: String?
    /// Field-level validation errors.
    public var errors: [FieldError]?

    /// One invalid field.
    public struct FieldError: Sendable, Equatable, Codable {
        /// JSON pointer or dotted path of the field, for example `email`.
        public var field: String
        /// What is wrong with it.
        public var message: String

        public init(field: String, message: String) {
            self.field = field
            self.message = message
        }
    }

    enum CodingKeys: String, CodingKey {
        case type, title, status, detail, instance, errors
        case requestID = "request_id"
    }

    /// Creates a problem.
    public init(
        status: HTTPResponse.Status,
        type: String = "about:blank",
        title: String? = nil,
        detail: String? = nil,
        errors: [FieldError]? = nil
    ) {
        self.type = type
        self.title = title ?? status.reasonPhrase
        self.status = status.code
        self.detail = detail
        self.errors = errors
    }

    /// A 400 validation problem listing every invalid field.
    public static func validation(_ errors: [FieldError], detail: String = "The request has invalid fields.") -> ProblemDetails {
        ProblemDetails(status: .badRequest, type: "/problems/validation", title: "Invalid request", detail: detail, errors: errors)
    }

    /// The 413 for a request body larger than `limit` bytes (services and the gateway alike).
    public static func bodyTooLarge(limit: Int) -> ProblemDetails {
        ProblemDetails(status: .contentTooLarge, type: "/problems/body-too-large", title: "Request body too large",
                       detail: "Request bodies may be at most \(limit) bytes.")
    }

    /// The response this problem becomes.
    public func response() -> Response {
        var headers: HTTPFields = [.contentType: Self.mediaType]
        if let requestID { headers[RequestIDMiddleware.headerName] = requestID }
        return Response(status: HTTPResponse.Status(code: status), headers: headers, body: .init(byteBuffer: encoded()))
    }

    /// The problem's media type, `application/problem+json`.
    public static let mediaType = "application/problem+json"

    /// The problem as its JSON body (keys sorted).
    public func encoded() -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let body = (try? encoder.encode(self)) ?? Data(#"{"status":500,"title":"Internal Server Error","type":"about:blank"}"#.utf8)
        return ByteBuffer(bytes: body)
    }
}
