/// A small YAML tree and its block-style rendering, enough for the AsyncAPI document.
///
/// Maps keep their order. Schemas are emitted as one-line JSON (flow style), which YAML
/// parsers read as the same value.
indirect enum YAMLNode {
    /// A string scalar, written plain when that is unambiguous, else double-quoted.
    case scalar(String)
    /// A mapping in the given key order.
    case map([(String, YAMLNode)])
    /// A block sequence.
    case list([YAMLNode])
    /// A JSON value in flow style.
    case json(JSONValue)

    /// The document text, ending in a newline.
    func rendered() -> String {
        var lines: [String] = []
        guard case .map(let pairs) = self else {
            return Self.inline(self) + "\n"
        }
        Self.appendMap(pairs, indent: "", into: &lines)
        return lines.joined(separator: "\n") + "\n"
    }

    private static func appendMap(_ pairs: [(String, YAMLNode)], indent: String, into lines: inout [String]) {
        for (key, value) in pairs {
            appendEntry(indent + plainOrQuotedKey(key) + ":", value, indent: indent, into: &lines)
        }
    }

    /// Appends `prefix` followed by `value`, nested one level below `indent`.
    private static func appendEntry(_ prefix: String, _ value: YAMLNode, indent: String, into lines: inout [String]) {
        switch value {
        case .map(let pairs) where !pairs.isEmpty:
            lines.append(prefix)
            appendMap(pairs, indent: indent + "  ", into: &lines)
        case .list(let items) where !items.isEmpty:
            lines.append(prefix)
            for item in items {
                appendListItem(item, indent: indent + "  ", into: &lines)
            }
        default:
            lines.append(prefix + " " + inline(value))
        }
    }

    private static func appendListItem(_ item: YAMLNode, indent: String, into lines: inout [String]) {
        guard case .map(let pairs) = item, let (firstKey, firstValue) = pairs.first else {
            lines.append(indent + "- " + inline(item))
            return
        }
        let inner = indent + "  "
        appendEntry(indent + "- " + plainOrQuotedKey(firstKey) + ":", firstValue, indent: inner, into: &lines)
        appendMap(Array(pairs.dropFirst()), indent: inner, into: &lines)
    }

    private static func inline(_ node: YAMLNode) -> String {
        switch node {
        case .scalar(let text): scalar(text)
        case .json(let value): value.compact()
        case .map: "{}"
        case .list: "[]"
        }
    }

    private static func plainOrQuotedKey(_ key: String) -> String {
        let safe = !key.isEmpty && key.unicodeScalars.allSatisfy { isPlainKeyScalar($0) }
        return safe ? key : JSONValue.quoted(key)
    }

    private static func isPlainKeyScalar(_ scalar: Unicode.Scalar) -> Bool {
        ("a"..."z").contains(scalar) || ("A"..."Z").contains(scalar) || ("0"..."9").contains(scalar)
            || scalar == "_" || scalar == "-" || scalar == "." || scalar == "$"
    }

    /// Plain when the text is made of letters, digits, spaces and `_ . / - , ( )`, starts with a
    /// letter or digit, and cannot be read as a number, boolean or null; double-quoted otherwise.
    private static func scalar(_ text: String) -> String {
        let reserved: Set<String> = ["true", "false", "yes", "no", "on", "off", "null", "~", "y", "n"]
        let allowed = text.unicodeScalars.allSatisfy {
            isPlainKeyScalar($0) && $0 != "$" || $0 == " " || $0 == "/" || $0 == "," || $0 == "(" || $0 == ")"
        }
        guard let first = text.unicodeScalars.first, allowed,
              isPlainKeyScalar(first), first != "-", first != ".", first != "$",
              text.last != " ", !reserved.contains(text.lowercased()), Double(text) == nil
        else {
            return JSONValue.quoted(text)
        }
        return text
    }
}
