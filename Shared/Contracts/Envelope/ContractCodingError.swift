/// A contract message could not be encoded to, or decoded from, its JSON payload.
public enum ContractCodingError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Encoding `type` failed.
    case encodingFailed(type: String, reason: String)
    /// The payload is not a valid `type` (malformed JSON, a missing required field, a bad value).
    case decodingFailed(type: String, reason: String)
    /// The envelope's `ce_type` (`actual`) is not the requested message's (`expected`).
    case typeMismatch(expected: String, actual: String)

    public var description: String {
        switch self {
        case .encodingFailed(let type, let reason):
            "cannot encode \(type): \(reason)"
        case .decodingFailed(let type, let reason):
            "cannot decode \(type): \(reason)"
        case .typeMismatch(let expected, let actual):
            "expected a message of type \(expected), got \(actual)"
        }
    }
}
