import Foundation
import ServiceKit

/// The body of `POST /api/v1/users`.
struct RegistrationRequest: Decodable, Sendable {
    var email: String
    var password: String
    var displayName: String

    enum CodingKeys: String, CodingKey {
        case email, password
        case displayName = "display_name"
    }
}

/// A registration that passed validation.
struct ValidRegistration: Sendable, Equatable {
    /// Trimmed; compared case-insensitively.
    let email: String
    let password: String
    /// Trimmed.
    let displayName: String
}

/// The rules a registration must satisfy; every broken rule becomes one field error.
enum RegistrationRules {
    static let minimumPasswordLength = 10
    /// bcrypt reads at most 72 bytes; longer passwords would be silently truncated.
    static let maximumPasswordBytes = 72
    static let maximumDisplayNameLength = 100

    static func validate(_ request: RegistrationRequest) throws(ProblemDetails) -> ValidRegistration {
        var errors: [ProblemDetails.FieldError] = []
        let email = request.email.trimmingCharacters(in: .whitespacesAndNewlines)
        if !EmailAddress.isValid(email) {
            errors.append(.init(field: "email", message: "must be an email address such as ada@example.org"))
        }
        if request.password.count < minimumPasswordLength {
            errors.append(.init(field: "password", message: "must have at least \(minimumPasswordLength) characters"))
        } else if request.password.contains("\0") {
            // bcrypt reads a C string: everything after a NUL would be ignored.
            errors.append(.init(field: "password", message: "must not contain the NUL character"))
        } else if request.password.utf8.count > maximumPasswordBytes {
            errors.append(.init(field: "password", message: "must be at most \(maximumPasswordBytes) bytes long"))
        }
        let displayName = request.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        if displayName.isEmpty || displayName.count > maximumDisplayNameLength {
            errors.append(.init(field: "display_name", message: "must have 1 to \(maximumDisplayNameLength) characters"))
        } else if displayName.containsControlCharacter {
            // Postgres text cannot hold NUL, and no name needs a control character.
            errors.append(.init(field: "display_name", message: "must not contain control characters"))
        }
        guard errors.isEmpty else { throw .validation(errors) }
        return ValidRegistration(email: email, password: request.password, displayName: displayName)
    }
}

/// A pragmatic email check: one `@`, a non-empty local part, a dotted domain of letters,
/// digits and hyphens, no spaces or control characters, at most 254 characters. Deliverability
/// is not checked.
enum EmailAddress {
    static func isValid(_ email: String) -> Bool {
        guard email.count <= 254, !email.contains(where: \.isWhitespace), !email.containsControlCharacter else { return false }
        let parts = email.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[0].isEmpty, parts[0].count <= 64 else { return false }
        let labels = parts[1].split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { return false }
        return labels.allSatisfy { label in
            !label.isEmpty && label.count <= 63 && label.first != "-" && label.last != "-"
                && label.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-") }
        }
    }
}
