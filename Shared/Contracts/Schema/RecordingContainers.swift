/// The keyed container of ``SchemaRecordingDecoder``: every key is present; `decode` records it
/// as required and `decodeIfPresent` as optional.
struct RecordingKeyedContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let recording: ShapeRecording
    let codingPath: [any CodingKey]
    var allKeys: [Key] { [] }

    func contains(_ key: Key) -> Bool { true }

    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try SchemaRecordingDecoder.placeholder(
            type,
            recording: recording.property(key.stringValue, required: true),
            codingPath: codingPath + [key]
        )
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try SchemaRecordingDecoder.placeholder(
            type,
            recording: recording.property(key.stringValue, required: false),
            codingPath: codingPath + [key]
        )
    }

    // The standard library gives each primitive its own requirement; route them all through the
    // generic ones so optional primitives are recorded as optional.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        let value: T? = try decodeIfPresent(type, forKey: key)
        return value
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try decoder(for: key).container(keyedBy: type)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try decoder(for: key).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        throw SchemaError.unsupported(type: "\(codingPath)", reason: "superDecoder() is not supported")
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        throw SchemaError.unsupported(type: "\(codingPath + [key])", reason: "superDecoder(forKey:) is not supported")
    }

    private func decoder(for key: Key) -> SchemaRecordingDecoder {
        SchemaRecordingDecoder(recording: recording.property(key.stringValue, required: true), codingPath: codingPath + [key])
    }
}

/// The unkeyed container of ``SchemaRecordingDecoder``: exactly one element, whose reads are
/// recorded as the array's `items`. Reads past the end record into a scratch recording.
struct RecordingUnkeyedContainer: UnkeyedDecodingContainer {
    let element: ShapeRecording
    let codingPath: [any CodingKey]
    var count: Int? { 1 }
    var isAtEnd: Bool { currentIndex >= 1 }
    private(set) var currentIndex = 0

    init(element: ShapeRecording, codingPath: [any CodingKey]) {
        self.element = element
        self.codingPath = codingPath
    }

    mutating func decodeNil() throws -> Bool { false }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try SchemaRecordingDecoder.placeholder(type, recording: nextRecording(), codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws -> KeyedDecodingContainer<NestedKey> {
        try SchemaRecordingDecoder(recording: nextRecording(), codingPath: codingPath).container(keyedBy: type)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try SchemaRecordingDecoder(recording: nextRecording(), codingPath: codingPath).unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        throw SchemaError.unsupported(type: "\(codingPath)", reason: "superDecoder() is not supported")
    }

    private mutating func nextRecording() -> ShapeRecording {
        defer { currentIndex += 1 }
        return currentIndex == 0 ? element : ShapeRecording(typeName: "scratch")
    }
}

/// The single-value container of ``SchemaRecordingDecoder``: the value's shape is the shape of
/// whatever is decoded from it.
struct RecordingSingleValueContainer: SingleValueDecodingContainer {
    let recording: ShapeRecording
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try SchemaRecordingDecoder.placeholder(type, recording: recording, codingPath: codingPath)
    }
}
