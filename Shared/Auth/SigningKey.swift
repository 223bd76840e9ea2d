public import Crypto
public import Foundation

/// An Ed25519 key that signs access tokens, named by its key id (`kid`).
public struct SigningKey: Sendable {
    /// The key id written into each token's header and the JWKS.
    public let id: String
    /// The private key.
    public let privateKey: Curve25519.Signing.PrivateKey

    /// Creates a key.
    public init(id: String, privateKey: Curve25519.Signing.PrivateKey) {
        self.id = id
        self.privateKey = privateKey
    }

    /// The public half, as published in the JWKS.
    public var publicKey: VerificationKey { VerificationKey(id: id, publicKey: privateKey.publicKey) }

    /// A new random key with a key id derived from the current date, for dev setups and tests.
    public static func generate(id: String? = nil) -> SigningKey {
        SigningKey(id: id ?? "dev-\(Int(Date().timeIntervalSince1970))", privateKey: Curve25519.Signing.PrivateKey())
    }

    /// `kid=seed` with the 32-byte seed in base64url (the form `JWT_SIGNING_KEYS` holds).
    public var encoded: String { "\(id)=\(Base64URL.encode(privateKey.rawRepresentation))" }

    /// Parses `kid=seed[,kid=seed…]`; the first key signs, the others are retired keys kept
    /// published until the tokens they signed expire. Nil when any entry is malformed or a
    /// key id repeats.
    public static func parseList(_ raw: String) -> [SigningKey]? {
        var keys: [SigningKey] = []
        for entry in raw.split(separator: ",").map({ $0.trimmingCharacters(in: .whitespaces) }) {
            let parts = entry.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2, KeyID.isValid(parts[0]), !keys.contains(where: { $0.id == parts[0] }),
                  let seed = Base64URL.decode(parts[1]), seed.count == 32,
                  let key = try? Curve25519.Signing.PrivateKey(rawRepresentation: seed)
            else { return nil }
            keys.append(SigningKey(id: parts[0], privateKey: key))
        }
        return keys.isEmpty ? nil : keys
    }
}

/// An Ed25519 public key that verifies access tokens.
public struct VerificationKey: Sendable {
    /// The key id.
    public let id: String
    /// The public key.
    public let publicKey: Curve25519.Signing.PublicKey

    /// Creates a key.
    public init(id: String, publicKey: Curve25519.Signing.PublicKey) {
        self.id = id
        self.publicKey = publicKey
    }
}

/// Rules for key ids: short, printable, no separators.
enum KeyID {
    static func isValid(_ id: String) -> Bool {
        !id.isEmpty && id.count <= 64 && id.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }
}
