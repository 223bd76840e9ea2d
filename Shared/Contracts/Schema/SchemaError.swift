/// A JSON Schema could not be derived or read.
public enum SchemaError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `type`'s `init(from:)` does something schema derivation cannot follow.
    case unsupported(type: String, reason: String)
    /// A schema file is not valid JSON.
    case invalidJSON(String)

    public var description: String {
        switch self {
        case .unsupported(let type, let reason):
            "cannot derive a JSON Schema for \(type): \(reason)"
        case .invalidJSON(let reason):
            "not a JSON document: \(reason)"
        }
    }
}
