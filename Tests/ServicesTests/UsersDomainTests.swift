import Foundation
import ServiceKit
import Testing
@testable import Users

/// Registration rules and refresh-token decisions: pure, no I/O.
@Suite("Users domain rules")
struct UsersDomainTests {
    @Test("email addresses", arguments: [
        ("ada@example.org", true), ("a.b+c@sub.example.co", true), ("ADA@EXAMPLE.ORG", true),
        ("ada", false), ("@example.org", false), ("ada@", false), ("ada@example", false), ("ada@ex ample.org", false),
        ("ada@-example.org", false), ("ada@example..org", false), ("a@b@example.org", false), ("a\u{0}b@example.org", false), ("ada\u{7F}@example.org", false),
    ])
    func emails(_ email: String, _ valid: Bool) {
        #expect(EmailAddress.isValid(email) == valid)
    }

    @Test("a registration lists every broken rule as a field error")
    func registrationErrors() {
        let request = RegistrationRequest(email: "nope", password: "short", displayName: "  ")
        #expect(throws: ProblemDetails.self) { try RegistrationRules.validate(request) }
        do {
            _ = try RegistrationRules.validate(request)
        } catch {
            #expect(error.status == 400)
            #expect(error.errors?.map(\.field) == ["email", "password", "display_name"])
        }
        let long = RegistrationRequest(email: "ada@example.org", password: String(repeating: "é", count: 40), displayName: "Ada")
        #expect(throws: ProblemDetails.self) { try RegistrationRules.validate(long) }  // 80 bytes: over bcrypt's 72
    }

    @Test("no NUL in a password (bcrypt would stop reading at it), no control characters in a display name", arguments: [
        ("long enough\u{0}password", "Ada", ["password"]), ("long enough password", "A\u{0}da", ["display_name"]),
        ("long enough password", "Ada\u{1B}[31m", ["display_name"]), ("long enough password", "A\u{85}da", ["display_name"]),
        ("long enough password", "Ådå Lovelace 🦀", []),
    ])
    func forbiddenCharacters(_ password: String, _ displayName: String, _ fields: [String]) {
        do {
            _ = try RegistrationRules.validate(RegistrationRequest(email: "ada@example.org", password: password, displayName: displayName))
            #expect(fields.isEmpty, "accepted, expected errors for \(fields)")
        } catch {
            #expect(error.errors?.map(\.field) == fields)
        }
    }

    @Test("a valid registration is trimmed")
    func trimmed() throws {
        let valid = try RegistrationRules.validate(RegistrationRequest(email: " ada@example.org ", password: "long enough pw", displayName: " Ada "))
        #expect(valid.email == "ada@example.org")
        #expect(valid.displayName == "Ada")
    }

    @Test("refresh decisions: fresh rotates, used is reuse, revoked and never used is refused quietly, old is expired")
    func refresh() {
        let now = Date()
        func token(expires: TimeInterval, used: Date? = nil, revoked: Date? = nil) -> StoredRefreshToken {
            StoredRefreshToken(id: UUID(), familyID: UUID(), userID: UUID(), expiresAt: now.addingTimeInterval(expires), usedAt: used, revokedAt: revoked)
        }
        #expect(token(expires: 60).decide(now: now) == .rotate)
        #expect(token(expires: -1).decide(now: now) == .expired)
        #expect(token(expires: 60, used: now).decide(now: now) == .reuseDetected)
        #expect(token(expires: 60, revoked: now).decide(now: now) == .revoked, "revoked by a logout or suspension, never used: no replay")
        #expect(token(expires: 60, used: now, revoked: now).decide(now: now) == .reuseDetected)
        #expect(token(expires: -1, used: now).decide(now: now) == .reuseDetected)
    }
}
