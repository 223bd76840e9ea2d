import HTTPTypes

/// The options a message's `Connection` header fields carry (RFC 9110 §7.6.1): comma-separated
/// tokens, compared case-insensitively.
enum ConnectionHeader {
    /// Whether `fields` carry the `close` option (RFC 9112 §9.6), in any of their `Connection`
    /// lines. A token that merely contains the word (`closed`, `x-close-hint`) is not it.
    static func asksToClose(_ fields: HTTPFields) -> Bool {
        fields[values: .connection].contains { line in
            line.split(separator: ",").contains { token in
                token.filter { $0 != " " && $0 != "\t" }.lowercased() == "close"
            }
        }
    }
}
