import Contracts

/// A minimal reader for the block-style YAML of `docs/asyncapi.yaml`: every `key: value` line
/// with the path of keys above it. Enough to check the committed file's structure without a
/// YAML library, so a hand edit that drops a channel or message is caught.
struct AsyncAPIOutline {
    struct Entry {
        var path: [String]
        var value: String
    }

    private(set) var entries: [Entry] = []

    init(_ text: String) {
        var stack: [(indent: Int, key: String)] = []
        for rawLine in text.split(separator: "\n", omittingEmptySubsequences: true) {
            var line = Substring(rawLine)
            if line.trimmingPrefix(while: { $0 == " " }).hasPrefix("#") { continue }
            var indent = line.prefix(while: { $0 == " " }).count
            line = line.dropFirst(indent)
            if line.hasPrefix("- ") {
                // A list item: its first key sits two columns further in.
                indent += 2
                line = line.dropFirst(2)
                stack.append((indent - 1, "-"))
            }
            guard let colon = line.firstRange(of: ":") else { continue }
            let key = String(line[..<colon.lowerBound])
            let value = line[colon.upperBound...].trimmingPrefix(while: { $0 == " " })
            while let last = stack.last, last.indent >= indent, !(last.key == "-" && last.indent == indent - 1) {
                stack.removeLast()
            }
            let path = stack.map(\.key).filter { $0 != "-" } + [key]
            if value.isEmpty {
                stack.append((indent, key))
            } else {
                entries.append(Entry(path: path, value: Self.unquote(String(value))))
            }
        }
    }

    /// Values at paths matching `pattern`, where `*` matches any key; with the matched keys.
    func values(_ pattern: String...) -> [(keys: [String], value: String)] {
        entries.compactMap { entry in
            guard entry.path.count == pattern.count else { return nil }
            var wildcards: [String] = []
            for (key, expected) in zip(entry.path, pattern) {
                if expected == "*" { wildcards.append(key) } else if key != expected { return nil }
            }
            return (wildcards, entry.value)
        }
    }

    private static func unquote(_ value: String) -> String {
        guard value.hasPrefix("\""), let parsed = try? JSONValue(parsing: Array(value.utf8)), let text = parsed.stringValue else {
            return value
        }
        return text
    }
}
