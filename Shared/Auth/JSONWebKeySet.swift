public import Crypto
public import Foundation

/// A JSON Web Key Set (RFC 7517) of Ed25519 verification keys, the body of
/// `/.well-known/jwks.json`.
public struct JSONWebKeySet: Codable, Sendable, Equatable {
    /// One key: `{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA","use":"sig"}` (RFC 8037).
    public struct Key: Codable, Sendable, Equatable {
        public var kty: String
        public var crv: String?
        public var x: String?
        public var kid: String?
        public var alg: String?
        public var use: String?
    }

    /// The keys.
    public var keys: [Key]

    /// The set publishing `keys`.
    public init(_ keys: [VerificationKey]) {
        self.keys = keys.map { key in
            Key(kty: "OKP", crv: "Ed25519", x: Base64URL.encode(key.publicKey.rawRepresentation), kid: key.id, alg: "EdDSA", use: "sig")
        }
    }

    /// The Ed25519 signing keys in the set; keys of other types, uses or algorithms, and keys
    /// without an id, are ignored.
    public var verificationKeys: [VerificationKey] {
        keys.compactMap { key in
            guard key.kty == "OKP", key.crv == "Ed25519", key.alg == nil || key.alg == "EdDSA",
                  key.use == nil || key.use == "sig", let kid = key.kid, KeyID.isValid(kid),
                  let x = key.x.flatMap({ Base64URL.decode($0) }),
                  let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: x)
            else { return nil }
            return VerificationKey(id: kid, publicKey: publicKey)
        }
    }

    /// The set as JSON with stable key order.
    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return try encoder.encode(self)
    }
}
