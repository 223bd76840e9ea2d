import Foundation
import Logging
import OpenAPIRuntime

extension ServerError {
    /// The problem a failed generated operation answers with.
    ///
    /// - A handler's (or middleware's) own error is mapped as if the route had thrown it.
    /// - The runtime's decoding errors (`limit=abc`, a body of the wrong shape) become a 400
    ///   validation problem naming the field, like ``JSONBody`` and ``PageRequest`` write them.
    /// - The runtime's other client errors (missing required header, unsupported content type,
    ///   unacceptable `Accept`) keep their 4xx status and the runtime's user-facing description.
    /// - Anything else is a 500 that names nothing internal.
    func problem(logger: Logger, mapUnderlying: (any Error) -> ProblemDetails) -> ProblemDetails {
        if let decoding = underlyingError as? DecodingError {
            return ProblemDetails.validation([JSONBody.fieldError(decoding)], detail: "The request has an invalid parameter or body.")
        }
        if underlyingError is any HTTPResponseConvertible {  // the runtime's own errors carry a status
            guard (400..<500).contains(httpStatus.code) else {
                logger.error("generated server failed", metadata: ["operation": "\(operationID)", "error": "\(causeDescription)"])
                return ProblemDetails(status: .internalServerError, detail: "An unexpected error occurred. Quote the request id when reporting it.")
            }
            return ProblemDetails(status: .init(code: httpStatus.code), detail: causeDescription)
        }
        return mapUnderlying(underlyingError)
    }
}
