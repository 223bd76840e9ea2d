extension StringProtocol {
    /// Whether the text holds a control character (Unicode category Cc: NUL, escape, DEL, C1
    /// codes…). Client text that reaches Postgres must not: text columns cannot store NUL.
    public var containsControlCharacter: Bool {
        unicodeScalars.contains { $0.properties.generalCategory == .control }
    }
}
