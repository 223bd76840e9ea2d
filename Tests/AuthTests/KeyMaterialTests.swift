import Auth
import Crypto
import Foundation
import Testing

@Suite("Key material: configuration form and JWKS")
struct KeyMaterialTests {
    @Test("kid=seed lists round-trip; the first key signs")
    func parseList() throws {
        let a = SigningKey.generate(id: "a"), b = SigningKey.generate(id: "b.2026-11")
        let parsed = try #require(SigningKey.parseList("\(a.encoded), \(b.encoded)"))
        #expect(parsed.map(\.id) == ["a", "b.2026-11"])
        #expect(parsed[0].privateKey.rawRepresentation == a.privateKey.rawRepresentation)
    }

    @Test("malformed key lists are refused", arguments: ["", "a", "a=", "a=short", "a b=\(Base64URL.encode(Data(count: 32)))", "a=\(Base64URL.encode(Data(count: 32))),a=\(Base64URL.encode(Data(count: 32)))"])
    func malformed(_ raw: String) {
        #expect(SigningKey.parseList(raw) == nil)
    }

    @Test("the JWKS publishes OKP/Ed25519 keys and reads back only usable ones")
    func jwks() throws {
        let key = SigningKey.generate(id: "k1")
        let set = JSONWebKeySet([key.publicKey])
        let json = String(decoding: try set.encoded(), as: UTF8.self)
        #expect(json.contains(#""kty":"OKP""#) && json.contains(#""crv":"Ed25519""#) && json.contains(#""alg":"EdDSA""#))
        let decoded = try JSONDecoder().decode(JSONWebKeySet.self, from: Data(json.utf8))
        #expect(decoded.verificationKeys.map(\.id) == ["k1"])
        #expect(decoded.verificationKeys.first?.publicKey.rawRepresentation == key.publicKey.publicKey.rawRepresentation)

        let mixed = #"{"keys":[{"kty":"RSA","kid":"r","n":"x","e":"AQAB"},{"kty":"OKP","crv":"Ed25519","x":"AAAA"},{"kty":"OKP","crv":"X25519","kid":"x","x":"\#(Base64URL.encode(Data(count: 32)))"}]}"#
        #expect(try JSONDecoder().decode(JSONWebKeySet.self, from: Data(mixed.utf8)).verificationKeys.isEmpty)
    }

    @Test("base64url round-trips and rejects other alphabets")
    func base64url() {
        let bytes = Data((0...255).map(UInt8.init))
        #expect(Base64URL.decode(Base64URL.encode(bytes)) == bytes)
        #expect(!Base64URL.encode(bytes).contains(where: { "+/=".contains($0) }))
        #expect(Base64URL.decode("ab+/") == nil)
        #expect(Base64URL.decode("a") == nil)
    }
}
