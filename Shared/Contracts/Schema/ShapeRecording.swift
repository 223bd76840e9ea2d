import Foundation

/// What one value's `init(from:)` asked its decoder for, filled in while the walk runs.
///
/// A reference type because the containers a decoder hands out are values but must record into
/// shared state. Used by one synchronous walk only, never shared across tasks.
final class ShapeRecording {
    private enum Kind {
        case leaf(SchemaShape)
        case object
        case array
    }

    private let typeName: String
    private var kind: Kind?
    private var properties: [String: ShapeRecording] = [:]
    private var required: Set<String> = []
    private(set) var items: ShapeRecording?

    init(typeName: String) {
        self.typeName = typeName
    }

    func recordLeaf(_ shape: SchemaShape) throws {
        try become(.leaf(shape))
    }

    func recordObject() throws {
        try become(.object)
    }

    /// The recording of the single array element, created on first use.
    func recordArray() throws -> ShapeRecording {
        try become(.array)
        if let items { return items }
        let element = ShapeRecording(typeName: "\(typeName)[]")
        items = element
        return element
    }

    /// The recording of property `key`; `required` is sticky once any read required it.
    func property(_ key: String, required isRequired: Bool) -> ShapeRecording {
        if isRequired { required.insert(key) }
        if let existing = properties[key] { return existing }
        let recording = ShapeRecording(typeName: "\(typeName).\(key)")
        properties[key] = recording
        return recording
    }

    /// The finished shape.
    func shape() throws(SchemaError) -> SchemaShape {
        switch kind {
        case .leaf(let shape):
            return shape
        case .object:
            var shapes: [String: SchemaShape] = [:]
            for (key, recording) in properties {
                shapes[key] = try recording.shape()
            }
            return .object(properties: shapes, required: required)
        case .array:
            guard let items else {
                throw .unsupported(type: typeName, reason: "an array whose element was never decoded")
            }
            return .array(try items.shape())
        case nil:
            throw .unsupported(type: typeName, reason: "init(from:) read nothing from its decoder")
        }
    }

    private func become(_ newKind: Kind) throws {
        switch (kind, newKind) {
        case (nil, _):
            kind = newKind
        case (.object, .object), (.array, .array):
            break
        case (.leaf(let old), .leaf(let new)) where old == new:
            break
        default:
            throw SchemaError.unsupported(type: typeName, reason: "init(from:) asked for two different kinds of container")
        }
    }
}
