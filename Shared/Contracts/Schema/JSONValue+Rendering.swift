extension JSONValue {
    /// Pretty JSON: keys sorted, two-space indentation, `"key": value`, and a trailing newline.
    /// The same value always renders to the same text, on every platform.
    public func prettyPrinted() -> String {
        var output = ""
        render(into: &output, indent: "", pretty: true)
        return output + "\n"
    }

    /// JSON on one line with sorted keys and no spaces, suitable for a YAML flow value.
    public func compact() -> String {
        var output = ""
        render(into: &output, indent: "", pretty: false)
        return output
    }

    private func render(into output: inout String, indent: String, pretty: Bool) {
        switch self {
        case .null:
            output += "null"
        case .bool(let value):
            output += value ? "true" : "false"
        case .number(let value):
            if value.rounded() == value, abs(value) < 1e15 {
                output += String(Int64(value))
            } else {
                output += "\(value)"
            }
        case .string(let text):
            output += Self.quoted(text)
        case .array(let elements):
            guard !elements.isEmpty else { output += "[]"; return }
            let inner = indent + "  "
            output += "["
            for (index, element) in elements.enumerated() {
                output += index == 0 ? "" : ","
                if pretty { output += "\n" + inner }
                element.render(into: &output, indent: inner, pretty: pretty)
            }
            output += pretty ? "\n" + indent + "]" : "]"
        case .object(let members):
            guard !members.isEmpty else { output += "{}"; return }
            let inner = indent + "  "
            output += "{"
            for (index, key) in members.keys.sorted().enumerated() {
                output += index == 0 ? "" : ","
                if pretty { output += "\n" + inner }
                output += Self.quoted(key) + (pretty ? ": " : ":")
                members[key, default: .null].render(into: &output, indent: inner, pretty: pretty)
            }
            output += pretty ? "\n" + indent + "}" : "}"
        }
    }

    /// A JSON string literal (also a valid YAML double-quoted scalar).
    static func quoted(_ text: String) -> String {
        var output = "\""
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": output += "\\\""
            case "\\": output += "\\\\"
            case "\n": output += "\\n"
            case "\r": output += "\\r"
            case "\t": output += "\\t"
            case _ where scalar.value < 0x20 || scalar.value == 0x7F:
                let hex = String(scalar.value, radix: 16)
                output += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                output.unicodeScalars.append(scalar)
            }
        }
        return output + "\""
    }
}
