import Foundation

/// Removes credentials from values before they appear in an error or a log line.
package enum Redaction {
    /// Replaces the password in `scheme://user:password@host` with `***`; other text is unchanged.
    package static func redactCredentials(in value: String) -> String {
        guard let schemeEnd = value.range(of: "://"),
              let at = value[schemeEnd.upperBound...].firstIndex(of: "@")
        else { return value }
        let userInfo = value[schemeEnd.upperBound..<at]
        guard let colon = userInfo.firstIndex(of: ":") else { return value }
        return String(value[..<colon]) + ":***" + String(value[at...])
    }
}
