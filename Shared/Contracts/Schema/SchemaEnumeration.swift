/// A string enumeration whose cases the JSON Schema derivation lists.
///
/// Conform every `String`-raw-valued enum used in a message. Schema derivation walks a
/// message's `init(from:)` with placeholder values; a plain raw-value enum would reject the
/// placeholder string, while a `SchemaEnumeration` is recorded as `{"type": "string", "enum":
/// [...all raw values...]}` and decoded as its first case.
public protocol SchemaEnumeration: CaseIterable, RawRepresentable<String>, Decodable {}

extension SchemaEnumeration {
    /// Every raw value, in declaration order.
    static var schemaRawValues: [String] { allCases.map(\.rawValue) }
    /// The value the schema walk decodes.
    static var schemaPlaceholder: Self? { allCases.first }
}
