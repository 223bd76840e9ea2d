import Foundation
public import HTTPTypes
public import Hummingbird

/// Accepts a well-formed `X-Request-ID` or generates one, stores it in the context and the
/// logger metadata (`request_id`), writes it into the request (so generated handlers read the
/// id in use through ``CurrentRequest``), and echoes it on every response, replacing any value a
/// handler set.
public struct RequestIDMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    /// The header name.
    public static let headerName = HTTPField.Name.requestID

    public init() {}

    public func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        var context = context
        let requestID = request.headers[Self.headerName].flatMap(Self.accepted) ?? UUID().uuidString.lowercased()
        var head = request.head
        head.headerFields[Self.headerName] = requestID
        let request = Request(head: head, body: request.body)
        context.requestID = requestID
        context.logger[metadataKey: "request_id"] = .string(requestID)
        var response = try await next(request, context)
        response.headers[Self.headerName] = requestID
        return response
    }

    /// A client-supplied id is kept when it is 1-128 characters of `[A-Za-z0-9._:-]`; anything
    /// else is replaced so that ids are always safe to log and echo.
    public static func accepted(_ candidate: String) -> String? {
        guard (1...128).contains(candidate.utf8.count) else { return nil }
        let allowed = candidate.utf8.allSatisfy { byte in
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                 UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "_"),
                 UInt8(ascii: "."), UInt8(ascii: ":"):
                return true
            default:
                return false
            }
        }
        return allowed ? candidate : nil
    }
}
