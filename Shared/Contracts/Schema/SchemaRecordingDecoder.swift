import Foundation

/// A `Decoder` that derives a schema by running a type's `init(from:)`.
///
/// Every read is answered with a placeholder and recorded: `decode` marks a key required,
/// `decodeIfPresent` optional; the requested type gives the JSON type. Strings decode as
/// `"EUR"`, so that validations such as ``Money``'s currency check accept them; unkeyed
/// containers hold exactly one element; ``SchemaEnumeration`` types decode as their first case.
struct SchemaRecordingDecoder: Decoder {
    let recording: ShapeRecording
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The string every `String` read returns.
    static let placeholderString = "EUR"

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        try recording.recordObject()
        return KeyedDecodingContainer(RecordingKeyedContainer<Key>(recording: recording, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        RecordingUnkeyedContainer(element: try recording.recordArray(), codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        RecordingSingleValueContainer(recording: recording, codingPath: codingPath)
    }

    /// Records the shape of `type` into `recording` and returns a placeholder of that type.
    static func placeholder<T: Decodable>(
        _ type: T.Type,
        recording: ShapeRecording,
        codingPath: [any CodingKey]
    ) throws -> T {
        func leaf(_ shape: SchemaShape, _ value: Any) throws -> T {
            try recording.recordLeaf(shape)
            guard let typed = value as? T else {
                throw SchemaError.unsupported(type: "\(T.self)", reason: "placeholder of the wrong type")
            }
            return typed
        }
        switch type {
        case is String.Type:
            return try leaf(.string(format: nil), placeholderString)
        case is Bool.Type:
            return try leaf(.boolean, false)
        case is UUID.Type:
            return try leaf(.string(format: "uuid"), UUID(uuid: (0, 0, 0, 0, 0, 0, 0x70, 0, 0x80, 0, 0, 0, 0, 0, 0, 0)))
        case is Date.Type:
            return try leaf(.string(format: "date-time"), Date(timeIntervalSince1970: 0))
        case is URL.Type:
            return try leaf(.string(format: "uri"), URL(fileURLWithPath: "/"))
        case let integer as any FixedWidthInteger.Type:
            return try leaf(.integer, integer.zero)
        case let floating as any BinaryFloatingPoint.Type:
            return try leaf(.number, floating.zero)
        case let enumeration as any SchemaEnumeration.Type:
            guard let first = enumeration.schemaPlaceholder else {
                throw SchemaError.unsupported(type: "\(T.self)", reason: "an enumeration without cases")
            }
            return try leaf(.enumeration(enumeration.schemaRawValues), first)
        default:
            return try T(from: SchemaRecordingDecoder(recording: recording, codingPath: codingPath))
        }
    }
}
