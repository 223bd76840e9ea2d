/// The shape of one JSON value as recorded by walking a `Decodable` type.
package indirect enum SchemaShape: Sendable, Equatable {
    /// A string, optionally with a JSON Schema `format` such as `uuid` or `date-time`.
    case string(format: String?)
    /// A string limited to these values, in declaration order.
    case enumeration([String])
    /// An integer.
    case integer
    /// A floating-point number.
    case number
    /// `true` or `false`.
    case boolean
    /// An array whose elements have the given shape.
    case array(SchemaShape)
    /// An object with named properties, some of them required.
    case object(properties: [String: SchemaShape], required: Set<String>)

    /// The JSON Schema keywords describing this shape. Objects allow additional properties
    /// because consumers ignore unknown fields.
    package var json: JSONValue {
        switch self {
        case .string(let format):
            var members: [String: JSONValue] = ["type": .string("string")]
            if let format { members["format"] = .string(format) }
            return .object(members)
        case .enumeration(let values):
            return .object(["type": .string("string"), "enum": .array(values.map(JSONValue.string))])
        case .integer:
            return .object(["type": .string("integer")])
        case .number:
            return .object(["type": .string("number")])
        case .boolean:
            return .object(["type": .string("boolean")])
        case .array(let items):
            return .object(["type": .string("array"), "items": items.json])
        case .object(let properties, let required):
            return .object([
                "type": .string("object"),
                "properties": .object(properties.mapValues(\.json)),
                "required": .array(required.sorted().map(JSONValue.string)),
                "additionalProperties": .bool(true),
            ])
        }
    }
}
