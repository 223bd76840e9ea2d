import Logging

/// Builds one JSON object on one line, escaping strings per RFC 8259.
package struct JSONLineWriter {
    /// Fields the handler always writes itself.
    package static let reservedKeys: Set<String> = ["time", "level", "service", "logger", "message"]

    /// A JSON value built from log metadata.
    package indirect enum Value {
        case string(String)
        case array([Value])
        case object([(String, Value)])

        package init(_ metadata: Logger.MetadataValue) {
            switch metadata {
            case .string(let s): self = .string(s)
            case .stringConvertible(let c): self = .string(c.description)
            case .array(let items): self = .array(items.map(Value.init))
            case .dictionary(let dict): self = .object(dict.keys.sorted().compactMap { key in dict[key].map { (key, Value($0)) } })
            }
        }
    }

    private var buffer = "{"
    private var isFirst = true

    package init() {}

    package mutating func field(_ key: String, _ value: Value) {
        if !isFirst { buffer += "," }
        isFirst = false
        Self.appendString(key, to: &buffer)
        buffer += ":"
        Self.append(value, to: &buffer)
    }

    package mutating func finish() -> String {
        buffer + "}\n"
    }

    private static func append(_ value: Value, to out: inout String) {
        switch value {
        case .string(let s):
            appendString(s, to: &out)
        case .array(let items):
            out += "["
            for (index, item) in items.enumerated() {
                if index > 0 { out += "," }
                append(item, to: &out)
            }
            out += "]"
        case .object(let pairs):
            out += "{"
            for (index, pair) in pairs.enumerated() {
                if index > 0 { out += "," }
                appendString(pair.0, to: &out)
                out += ":"
                append(pair.1, to: &out)
            }
            out += "}"
        }
    }

    package static func appendString(_ s: String, to out: inout String) {
        out += "\""
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
    }
}
