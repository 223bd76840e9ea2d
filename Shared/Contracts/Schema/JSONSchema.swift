/// A JSON Schema (draft 2020-12) document describing one message's payload.
///
/// Derive one from a type's `Decodable` conformance with ``derive(_:)``; compare two with
/// ``SchemaCompatibility/breakingChanges(from:to:)``. Snapshots of every catalog message live
/// in `Shared/Contracts/Schemas/<ce_type>.schema.json`.
public struct JSONSchema: Sendable, Equatable {
    /// The JSON Schema dialect of derived schemas.
    public static let dialect = "https://json-schema.org/draft/2020-12/schema"

    /// The schema document.
    public var root: JSONValue

    /// A schema from its document.
    public init(_ root: JSONValue) {
        self.root = root
    }

    /// Parses a schema file.
    public init(parsing bytes: [UInt8]) throws(SchemaError) {
        self.init(try JSONValue(parsing: bytes))
    }

    /// The schema as pretty JSON with sorted keys and a trailing newline, as snapshots store it.
    public func prettyPrinted() -> String {
        root.prettyPrinted()
    }

    /// The schema of a contract message: `$id` is its CloudEvents type, `title` its Swift name,
    /// `description` its summary.
    public static func derive<M: MessageContract>(_ type: M.Type) throws(SchemaError) -> JSONSchema {
        try derive(type, id: M.ceType, title: String(describing: M.self), description: M.summary)
    }

    /// The schema of any `Decodable` type whose `init(from:)` reads a keyed container,
    /// derived by walking that initializer (see ``SchemaEnumeration`` for enumerations).
    public static func derive<T: Decodable>(
        _ type: T.Type,
        id: String,
        title: String,
        description: String
    ) throws(SchemaError) -> JSONSchema {
        let recording = ShapeRecording(typeName: title)
        do {
            _ = try T(from: SchemaRecordingDecoder(recording: recording, codingPath: []))
        } catch let error as SchemaError {
            throw error
        } catch DecodingError.dataCorrupted(let context) {
            throw .unsupported(
                type: title,
                reason: "\(context.debugDescription) (a raw-value enum must conform to SchemaEnumeration; "
                    + "other validations must accept the placeholder \"\(SchemaRecordingDecoder.placeholderString)\", 0 or false)"
            )
        } catch {
            throw .unsupported(type: title, reason: String(describing: error))
        }
        guard case .object(var members) = try recording.shape().json, members["properties"] != nil else {
            throw .unsupported(type: title, reason: "a message must decode from a keyed container (a JSON object)")
        }
        members["$schema"] = .string(dialect)
        members["$id"] = .string(id)
        members["title"] = .string(title)
        members["description"] = .string(description)
        return JSONSchema(.object(members))
    }
}
