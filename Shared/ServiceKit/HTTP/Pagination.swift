public import Foundation
public import HummingbirdCore

/// Cursor pagination, the same on every list: `?limit=&cursor=` →
/// `{"data": [...], "next_cursor": "...", "has_more": true}`.
///
/// A cursor is opaque to clients: base64url of a position the list understands (for example
/// the last id seen). A cursor that does not decode answers 400.
public struct PageRequest: Sendable, Equatable {
    /// How many items to return (1 to the list's maximum).
    public let limit: Int
    /// The decoded position after which to continue, or nil for the first page.
    public let after: String?

    /// Reads `limit` (default `defaultLimit`, at most `maximumLimit`) and `cursor` from the
    /// query of `uri`.
    public static func parse(_ uri: URI, defaultLimit: Int = 20, maximumLimit: Int = 100) throws -> PageRequest {
        let rawLimit = uri.queryParameters.get("limit")
        return try validated(limit: rawLimit.map { Int($0) }, cursor: uri.queryParameters.get("cursor"),
                             defaultLimit: defaultLimit, maximumLimit: maximumLimit)
    }

    /// Checks an already decoded `limit` and `cursor` (from a generated operation's `Input`).
    public static func parse(limit: Int?, cursor: String?, defaultLimit: Int = 20, maximumLimit: Int = 100) throws -> PageRequest {
        try validated(limit: limit.map { Optional($0) }, cursor: cursor, defaultLimit: defaultLimit, maximumLimit: maximumLimit)
    }

    /// `limit` is nil when absent and `.some(nil)` when present but not an integer.
    private static func validated(limit rawLimit: Int??, cursor rawCursor: String?, defaultLimit: Int, maximumLimit: Int) throws -> PageRequest {
        var errors: [ProblemDetails.FieldError] = []
        var limit = defaultLimit
        if let rawLimit {
            if let value = rawLimit, (1...maximumLimit).contains(value) { limit = value } else {
                errors.append(.init(field: "limit", message: "must be an integer from 1 to \(maximumLimit)"))
            }
        }
        var after: String?
        if let raw = rawCursor, !raw.isEmpty {
            if let decoded = PageCursor.decode(raw) { after = decoded } else {
                errors.append(.init(field: "cursor", message: "is not a cursor this list returned"))
            }
        }
        guard errors.isEmpty else { throw ProblemDetails.validation(errors, detail: "The query has invalid parameters.") }
        return PageRequest(limit: limit, after: after)
    }

    /// The cursor's position parsed by `parse` (nil on the first page); a 400 problem when the
    /// position is not one this list writes.
    public func position<Position>(_ parse: (String) -> Position?) throws -> Position? {
        guard let after else { return nil }
        guard let position = parse(after) else {
            throw ProblemDetails.validation([.init(field: "cursor", message: "is not a cursor this list returned")], detail: "The query has invalid parameters.")
        }
        return position
    }

    /// Creates a request.
    public init(limit: Int, after: String?) {
        self.limit = limit
        self.after = after
    }
}

/// A page of a list. Fetch `limit + 1` rows and pass them here: the extra row only tells
/// whether there is more.
public struct Page<Item: Encodable & Sendable>: Encodable, Sendable {
    public let data: [Item]
    public let nextCursor: String?
    public let hasMore: Bool

    /// The page of `rows` (up to `request.limit + 1` of them); `position` gives the cursor
    /// position of an item.
    public init(rows: [Item], request: PageRequest, position: (Item) -> String) {
        hasMore = rows.count > request.limit
        data = Array(rows.prefix(request.limit))
        nextCursor = hasMore ? data.last.map { PageCursor.encode(position($0)) } : nil
    }

    enum CodingKeys: String, CodingKey {
        case data
        case nextCursor = "next_cursor"
        case hasMore = "has_more"
    }
}

/// The opaque form of a cursor position.
public enum PageCursor {
    /// base64url of `position`.
    public static func encode(_ position: String) -> String {
        Data(("c1:" + position).utf8).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The position in `cursor`, or nil when it is not one of ours (positions we write hold no
    /// control characters; a forged NUL would otherwise reach Postgres as text).
    public static func decode(_ cursor: String) -> String? {
        var base64 = cursor.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        if base64.count % 4 != 0 { base64 += String(repeating: "=", count: 4 - base64.count % 4) }
        guard let data = Data(base64Encoded: base64), let text = String(data: data, encoding: .utf8), text.hasPrefix("c1:"),
              !text.containsControlCharacter
        else { return nil }
        return String(text.dropFirst(3))
    }
}
