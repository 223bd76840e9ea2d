import Foundation
import Logging
import OpenAPIRuntime

extension ServerError {
    /// The problem a failed generated operation answers with.
    ///
    /// - A handler's (or middleware's) own error is mapped as if the route had thrown it.
    /// - While the request is being read (no `operationInput` yet), the runtime's decoding errors
    ///   (a body of the wrong shape) become a 400 validation problem naming the field, like
    ///   ``JSONBody`` writes them, and any other error of the runtime's (a malformed query such as
    ///   `?foo`) a plain 400.
    /// - The runtime's other client errors (missing required header, unsupported content type)
    ///   keep their 4xx status and the runtime's user-facing description.
    /// - Anything else is a 500 that names nothing internal.
    func problem(logger: Logger, mapUnderlying: (any Error) -> ProblemDetails) -> ProblemDetails {
        let readingRequest = operationInput == nil
        switch underlyingError {
        case is ProblemDetails, is any ProblemConvertible:
            return mapUnderlying(underlyingError)
        case let decoding as DecodingError where readingRequest:
            return ProblemDetails.validation([JSONBody.fieldError(decoding)], detail: "The request has an invalid parameter or body.")
        case is any HTTPResponseConvertible where (400..<500).contains(httpStatus.code):  // the runtime's own errors carry a status
            return ProblemDetails(status: .init(code: httpStatus.code), detail: causeDescription)
        case _ where readingRequest && !(underlyingError is any HTTPResponseConvertible):
            return ProblemDetails(status: .badRequest, detail: "The request could not be read.")
        default:
            return mapUnderlying(underlyingError)
        }
    }
}
