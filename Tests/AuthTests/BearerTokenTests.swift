import Auth
import HTTPTypes
import Testing

/// Reading the token out of `Authorization` (pure: no I/O).
@Suite("Bearer token in the Authorization field")
struct BearerTokenTests {
    private func token(_ value: String?) -> String? {
        var fields = HTTPFields()
        if let value { fields[.authorization] = value }
        return Authenticator.bearerToken(in: fields)
    }

    @Test("the scheme matches in any case, and blanks around the token are dropped")
    func accepted() {
        #expect(token("Bearer abc.def.ghi") == "abc.def.ghi")
        #expect(token("bearer abc") == "abc")
        #expect(token("BEARER abc") == "abc")
        #expect(token("bEaReR \t abc \t") == "abc")
    }

    @Test("no field, another scheme, or no token gives nil")
    func refused() {
        #expect(token(nil) == nil)
        #expect(token("Basic dXNlcjpwYXNz") == nil)
        #expect(token("Bearer") == nil)
        #expect(token("Bearer ") == nil)
        #expect(token("Bearer  \t ") == nil)
        #expect(token("Bearerabc") == nil)
        #expect(token("Bearer_abc") == nil)
    }
}
