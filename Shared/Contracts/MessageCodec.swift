import Foundation

/// The JSON encoding of contract payloads.
///
/// Keys are snake_case (spelled out by each type's `CodingKeys`) and sorted; dates are RFC 3339
/// in UTC with milliseconds (`2026-01-01T12:00:00.123Z`), and any RFC 3339 date-time is
/// accepted on decode. Unknown fields are ignored on decode.
public enum MessageCodec {
    /// The JSON payload of `value`.
    public static func encode<M: Encodable>(_ value: M) throws(ContractCodingError) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(RFC3339.format(date))
        }
        do {
            return Array(try encoder.encode(value))
        } catch {
            throw .encodingFailed(type: String(describing: M.self), reason: describe(error))
        }
    }

    /// Decodes a JSON payload as `type`.
    public static func decode<M: Decodable>(_ type: M.Type, from bytes: [UInt8]) throws(ContractCodingError) -> M {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = RFC3339.parse(text) else {
                throw DecodingError.dataCorruptedError(
                    in: container,
                    debugDescription: "\"\(text)\" is not an RFC 3339 date-time"
                )
            }
            return date
        }
        do {
            return try decoder.decode(M.self, from: Data(bytes))
        } catch {
            throw .decodingFailed(type: String(describing: M.self), reason: describe(error))
        }
    }

    /// A one-line reason naming the offending field, for logs and dead-letter headers.
    private static func describe(_ error: any Error) -> String {
        func path(_ codingPath: [any CodingKey]) -> String {
            codingPath.isEmpty ? "<root>" : codingPath.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".")
        }
        switch error {
        case DecodingError.keyNotFound(let key, let context):
            let parent = context.codingPath.isEmpty ? "" : " in \(path(context.codingPath))"
            return "missing field \(key.stringValue)\(parent)"
        case DecodingError.typeMismatch(let type, let context):
            return "\(path(context.codingPath)): expected \(type): \(context.debugDescription)"
        case DecodingError.valueNotFound(let type, let context):
            return "\(path(context.codingPath)): expected \(type), found null"
        case DecodingError.dataCorrupted(let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        case EncodingError.invalidValue(_, let context):
            return "\(path(context.codingPath)): \(context.debugDescription)"
        default:
            return String(describing: error)
        }
    }
}
