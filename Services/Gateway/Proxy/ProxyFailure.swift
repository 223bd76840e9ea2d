import HTTPTypes
import ServiceKit

/// Why the gateway answered for an upstream instead of relaying its answer.
enum ProxyFailure: Error, Sendable, Equatable {
    /// Every concurrency slot of the upstream is taken.
    case saturated
    /// The upstream's circuit breaker is open; a trial is allowed after `retryAfter`.
    case breakerOpen(retryAfter: Duration)
    /// No response head, or not the whole of a small body, within the request timeout.
    case timeout
    /// The upstream could not be reached (refused, reset, connect timeout).
    case unreachable
    /// The upstream's response broke off.
    case badResponse

    /// The problem the client gets; it names the public area, never a host or port.
    func problem(area: String) -> ProblemDetails {
        switch self {
        case .saturated:
            ProblemDetails(status: .serviceUnavailable, type: "/problems/upstream-saturated", title: "Service busy",
                           detail: "Too many requests for \(area) are in flight; retry shortly.")
        case .breakerOpen:
            ProblemDetails(status: .serviceUnavailable, type: "/problems/upstream-circuit-open", title: "Service unavailable",
                           detail: "The service behind \(area) is failing; the gateway is not calling it for a moment.")
        case .timeout:
            ProblemDetails(status: .gatewayTimeout, type: "/problems/upstream-timeout", title: "Gateway timeout",
                           detail: "The service behind \(area) did not answer in time.")
        case .unreachable:
            ProblemDetails(status: .serviceUnavailable, type: "/problems/upstream-unavailable", title: "Service unavailable",
                           detail: "The service behind \(area) cannot be reached.")
        case .badResponse:
            ProblemDetails(status: .badGateway, type: "/problems/bad-upstream-response", title: "Bad gateway",
                           detail: "The service behind \(area) sent a broken response.")
        }
    }

    /// `Retry-After` in whole seconds, for the failures where retrying later helps.
    var retryAfterSeconds: Int? {
        switch self {
        case .saturated, .unreachable: 1
        case .breakerOpen(let retryAfter):
            max(1, Int((retryAfter.nanoseconds + 999_999_999) / 1_000_000_000))
        case .timeout, .badResponse: nil
        }
    }
}
