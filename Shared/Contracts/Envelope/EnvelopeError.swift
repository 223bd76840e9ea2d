/// Why Kafka headers and a value do not form a valid OrderFlow CloudEvent.
///
/// Every case describes a message that can never be processed, so consumers send it to the
/// dead-letter topic rather than retrying.
public enum EnvelopeError: Error, Sendable, Equatable, CustomStringConvertible {
    /// A required header (for example `ce_id`) is absent.
    case missingHeader(String)
    /// A header is present but its value is malformed (for example `ce_id` is not a UUID or
    /// `ce_time` is not RFC 3339).
    case invalidHeader(name: String, value: String)
    /// `ce_specversion` is not ``CloudEvent/specVersion``.
    case unsupportedSpecVersion(String)
    /// `content-type` is not `application/json`.
    case unsupportedContentType(String)
    /// The record has no value (for example a tombstone).
    case missingData

    public var description: String {
        switch self {
        case .missingHeader(let name):
            "CloudEvent header \(name) is missing"
        case .invalidHeader(let name, let value):
            "CloudEvent header \(name) has an invalid value \"\(value)\""
        case .unsupportedSpecVersion(let version):
            "CloudEvents spec version \"\(version)\" is not supported (expected \(CloudEvent.specVersion))"
        case .unsupportedContentType(let contentType):
            "content type \"\(contentType)\" is not supported (expected \(CloudEvent.jsonContentType))"
        case .missingData:
            "the message has no value"
        }
    }
}
