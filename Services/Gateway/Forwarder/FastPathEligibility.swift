import HTTPTypes

/// Which requests the event-loop proxy path (``FastForwarder``) takes: a pure function of the
/// request head, unit-tested.
///
/// It takes the common, simple case — a `GET` without a body to a proxied route, on a
/// keep-alive connection, that is not asking for an event stream — and leaves everything else
/// to the Hummingbird router and async-http-client, which handle bodies, streaming with
/// graceful shutdown, `Connection` handling, HEAD, preflights and tracing.
enum FastPathEligibility {
    /// Whether `head` goes through the event-loop path.
    static func accepts(_ head: HTTPRequest, table: RouteTable) -> Bool {
        guard head.method == .get, let path = head.path else { return false }
        let fields = head.headerFields
        // A body, a Connection header asking for anything but keep-alive (close, upgrade) or an
        // event stream is the router's business.
        guard fields[.contentLength] == nil || fields[.contentLength] == "0",
              fields[.transferEncoding] == nil, fields[.upgrade] == nil,
              fields[values: .connection].allSatisfy({ $0.lowercased() == "keep-alive" }),
              fields[.accept]?.lowercased().contains("text/event-stream") != true else { return false }
        return table.route(method: .get, path: Self.pathWithoutQuery(path)) != nil
    }

    /// `path` up to its `?`.
    static func pathWithoutQuery(_ path: String) -> String {
        guard let question = path.utf8.firstIndex(of: UInt8(ascii: "?")) else { return path }
        return String(path[..<question])
    }
}
