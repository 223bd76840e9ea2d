import HTTPTypes
import Hummingbird
import ServiceKit

/// Answers `HEAD` on the event stream with 405 (`Allow: GET`) before the stream's handler runs.
///
/// Every `GET` route answers `HEAD` by running the `GET` and dropping its body. For the stream
/// that would take one of the user's ``StreamQuota`` places (ending their oldest live stream at
/// the cap), subscribe to Redis and read Postgres, all for a head that says nothing.
struct StreamHeadRefusal: RouterMiddleware {
    typealias Context = AppRequestContext

    static let path = "/api/v1/notifications/stream"

    func handle(
        _ request: Request, context: AppRequestContext, next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        guard request.method == .head, request.uri.path == Self.path else { return try await next(request, context) }
        return Response(status: .methodNotAllowed, headers: [.allow: "GET"])
    }
}
