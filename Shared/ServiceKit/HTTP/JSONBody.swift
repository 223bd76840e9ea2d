public import Foundation

/// JSON request and response bodies with the conventions every OrderFlow API shares:
/// snake_case keys (from each type's `CodingKeys`), ISO 8601 dates, and a 400 validation
/// problem naming the field when a body does not decode.
public enum JSONBody {
    /// The largest request body read (1 MiB); larger ones answer 413.
    public static let maximumRequestBytes = 1 << 20

    /// Decodes `data` as `type`, mapping decoding errors to a validation problem.
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws -> T {
        do {
            return try decoder.decode(type, from: data)
        } catch let error as DecodingError {
            throw ProblemDetails.validation([fieldError(error)], detail: "The request body is not valid JSON of the expected shape.")
        }
    }

    /// The decoder request bodies use.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return decoder
    }

    /// The encoder responses use.
    public static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(date.formatted(dateFormat))
        }
        return encoder
    }

    /// How responses write dates: ISO 8601 in UTC with milliseconds (`2025-01-15T10:30:00.500Z`).
    public static let dateFormat = Date.ISO8601FormatStyle.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)

    static func fieldError(_ error: DecodingError) -> ProblemDetails.FieldError {
        func path(_ keys: [any CodingKey]) -> String {
            keys.map { $0.intValue.map { "[\($0)]" } ?? $0.stringValue }.joined(separator: ".").replacingOccurrences(of: ".[", with: "[")
        }
        switch error {
        case .keyNotFound(let key, let context):
            return .init(field: path(context.codingPath + [key]), message: "is required")
        case .typeMismatch(let type, let context):
            return .init(field: path(context.codingPath), message: "must be \(describe(type))")
        case .valueNotFound(let type, let context):
            return .init(field: path(context.codingPath), message: "must be \(describe(type)), not null")
        case .dataCorrupted(let context) where context.codingPath.isEmpty:
            return .init(field: "", message: "is not valid JSON")
        case .dataCorrupted(let context):
            return .init(field: path(context.codingPath), message: "has an invalid value")
        @unknown default:
            return .init(field: "", message: "is invalid")
        }
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type, is Int64.Type: "an integer"
        case is Double.Type: "a number"
        case is Bool.Type: "a boolean"
        default: type is any Collection.Type ? "an array" : "an object"
        }
    }
}
