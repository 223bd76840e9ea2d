public import Hummingbird
import Logging
import OpenAPIRuntime
import PostgresNIO

/// Turns every error a route throws into an `application/problem+json` response.
///
/// - ``ProblemDetails`` is sent as thrown.
/// - A generated operation's `ServerError` is unwrapped (see `ServerError.problem`).
/// - Hummingbird's own `HTTPError`s (unknown route, body too large, …) keep their status; their
///   message is kept only for client errors (4xx), which Hummingbird writes for clients.
/// - Postgres refusing a character (a NUL in a text parameter, SQLSTATE 22021) is the client's
///   input that a validation missed: a 400 problem, logged so that the gap can be closed.
/// - Anything else is logged with the request id and answered with a bare 500 problem that
///   carries nothing but the request id.
public struct ProblemMiddleware: RouterMiddleware {
    public typealias Context = AppRequestContext

    public init() {}

    /// SQLSTATE `character_not_in_repertoire`: Postgres text cannot hold the character (NUL).
    static let characterNotInRepertoire = "22021"

    public func handle(
        _ request: Request,
        context: AppRequestContext,
        next: (Request, AppRequestContext) async throws -> Response
    ) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            var problem = Self.problem(for: error, logger: context.logger)
            problem.instance = request.uri.path
            problem.requestID = context.requestID.isEmpty ? nil : context.requestID
            return problem.response()
        }
    }

    /// Maps an error to the problem the client sees (internals never leave the process).
    static func problem(for error: any Error, logger: Logger) -> ProblemDetails {
        switch error {
        case let transaction as PostgresTransactionError where transaction.closureError != nil:
            // A problem thrown inside a transaction comes back wrapped.
            return problem(for: transaction.closureError ?? transaction, logger: logger)
        case let serverError as ServerError:
            return serverError.problem(logger: logger) { problem(for: $0, logger: logger) }
        case let problem as ProblemDetails:
            return problem
        case let convertible as any ProblemConvertible:
            return convertible.problem
        case let httpError as HTTPError where (400..<500).contains(httpError.status.code):
            return ProblemDetails(status: httpError.status, detail: httpError.body)
        case let httpError as HTTPError:
            logger.error("request failed", metadata: ["error.status": "\(httpError.status.code)", "error": "\(httpError)"])
            return ProblemDetails(status: httpError.status)
        case let responseError as any HTTPResponseError where (400..<500).contains(responseError.status.code):
            return ProblemDetails(status: responseError.status)
        case let database as PSQLError where database.serverInfo?[.sqlState] == characterNotInRepertoire:
            logger.warning("input with a character Postgres cannot store reached a query", metadata: ["error": "\(String(reflecting: database))"])
            return ProblemDetails(status: .badRequest, detail: "The request contains a character that cannot be stored, such as NUL.")
        default:
            logger.error("unhandled error", metadata: ["error": "\(String(reflecting: error))"])
            return ProblemDetails(
                status: .internalServerError,
                detail: "An unexpected error occurred. Quote the request id when reporting it."
            )
        }
    }
}
