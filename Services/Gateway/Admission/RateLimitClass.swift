import HTTPTypes

/// Which bucket a request spends from: reads are cheap and plentiful, writes are not.
enum RateLimitClass: String, Sendable, Equatable, CaseIterable {
    case read
    case write

    /// A bucket's size and refill rate.
    struct Limit: Sendable, Equatable {
        var burst: Int
        var perSecond: Int
    }

    init(method: HTTPRequest.Method) {
        switch method {
        case .get, .head, .options: self = .read
        default: self = .write
        }
    }
}
