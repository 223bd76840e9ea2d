import Auth
import Crypto
import Foundation
import TestSupport
import Testing

extension LiveServices {
    /// Forged and broken access tokens, sent to users, to payments (which verifies through
    /// users' JWKS) and to the gateway (which refuses them before any upstream sees them):
    /// every one is a 401 problem.
    @Suite("Token attacks are refused")
    struct TokenAttackTests {
        @Test("alg none, HS256 keyed with the public key, expired, not yet valid, wrong aud/iss, unknown kid, tampered payload, foreign key")
        func attacks() async throws {
            let fleet = try await UsersAndPayments.start()
            let gateway = try await GatewayProcess.start(users: fleet.users, payments: fleet.payments)
            let customer = try await fleet.newCustomer()
            let keys = try #require(SigningKey.parseList(
                try String(contentsOfFile: try StackEnvironment.value("ORDERFLOW_JWT_SIGNING_KEYS_FILE"), encoding: .utf8)
                    .trimmingCharacters(in: .whitespacesAndNewlines)
            ))
            let forge = TokenForge(key: keys[0], subject: customer.id)
            let valid = forge.signed()
            #expect(try await fleet.users.request("GET", "/api/v1/users/me", headers: ["Authorization": "Bearer \(valid)"]).status == 200,
                    "the forge's honest token must pass, or the attacks below prove nothing")

            let now = Date().timeIntervalSince1970
            let attacks: [(String, String)] = [
                ("alg none", forge.unsigned(header: ["alg": "none", "typ": "JWT"])),
                ("HS256 with the public key", forge.hmac(secret: Data(keys[0].publicKey.publicKey.rawRepresentation))),
                ("HS256 with the JWK x", forge.hmac(secret: Data(Base64URL.encode(keys[0].publicKey.publicKey.rawRepresentation).utf8))),
                ("expired", forge.signed(claims: ["exp": now - 3_600, "iat": now - 7_200, "nbf": now - 7_200])),
                ("not yet valid", forge.signed(claims: ["nbf": now + 3_600])),
                ("issued in the future", forge.signed(claims: ["iat": now + 3_600])),
                ("wrong audience", forge.signed(claims: ["aud": "someone-else"])),
                ("wrong issuer", forge.signed(claims: ["iss": "https://evil.example"])),
                ("unknown kid", TokenForge(key: SigningKey.generate(id: "not-published"), subject: customer.id).signed()),
                ("foreign key claiming the real kid", TokenForge(key: SigningKey.generate(id: keys[0].id), subject: customer.id).signed()),
                ("no kid", forge.signed(header: ["alg": "EdDSA", "typ": "JWT"])),
                ("tampered payload", forge.tampered(valid, claims: ["roles": ["customer", "admin"]])),
                ("not a JWT", "hello"),
                ("empty signature", valid.split(separator: ".").prefix(2).joined(separator: ".") + "."),
            ]
            for (name, token) in attacks {
                for (service, path) in [(fleet.users, "/api/v1/users/me"), (fleet.payments, "/api/v1/wallet"), (gateway, "/api/v1/wallet")] {
                    let reply = try await service.request("GET", path, headers: ["Authorization": "Bearer \(token)"])
                    #expect(reply.status == 401, "\(name) at \(service.name): \(reply.status) \(reply.text)")
                    #expect(reply.header("Content-Type") == "application/problem+json", "\(name) at \(service.name)")
                    #expect(!reply.text.contains("JWTError") && !reply.text.contains("Swift"), "\(name) leaks internals: \(reply.text)")
                    if service === gateway {
                        #expect(reply.header("WWW-Authenticate") == #"Bearer realm="orderflow""#, "\(name): refused by the gateway itself")
                    }
                }
            }
            let missing = try await fleet.payments.request("GET", "/api/v1/wallet")
            #expect(missing.status == 401)
            #expect(try await gateway.request("GET", "/api/v1/wallet", headers: ["Authorization": "Bearer \(valid)"]).status == 200)
            #expect(try await gateway.terminate() == 0)
            try await fleet.stop()
        }
    }
}

/// Builds access tokens by hand, honest or not.
struct TokenForge {
    let key: SigningKey
    let subject: UUID

    var defaultClaims: [String: Any] {
        let now = Date().timeIntervalSince1970.rounded(.down)
        return [
            "iss": "orderflow-users", "aud": "orderflow", "sub": subject.uuidString.lowercased(), "iat": now, "nbf": now,
            "exp": now + 300, "jti": UUID().uuidString.lowercased(), "roles": ["customer"],
        ]
    }

    var defaultHeader: [String: Any] { ["alg": "EdDSA", "typ": "JWT", "kid": key.id] }

    func signed(header: [String: Any]? = nil, claims overrides: [String: Any] = [:]) -> String {
        let input = signingInput(header: header ?? defaultHeader, claims: defaultClaims.merging(overrides) { _, new in new })
        let signature = (try? key.privateKey.signature(for: Data(input.utf8))) ?? Data()
        return input + "." + Base64URL.encode(signature)
    }

    func unsigned(header: [String: Any]) -> String {
        signingInput(header: header, claims: defaultClaims) + "."
    }

    func hmac(secret: Data) -> String {
        let input = signingInput(header: ["alg": "HS256", "typ": "JWT", "kid": key.id], claims: defaultClaims)
        let mac = HMAC<SHA256>.authenticationCode(for: Data(input.utf8), using: SymmetricKey(data: secret))
        return input + "." + Base64URL.encode(Data(mac))
    }

    /// `token` with its payload replaced (claims changed) and its signature kept.
    func tampered(_ token: String, claims overrides: [String: Any]) -> String {
        let parts = token.split(separator: ".").map(String.init)
        var claims = (try? JSONSerialization.jsonObject(with: Base64URL.decode(parts[1]) ?? Data()) as? [String: Any]) ?? [:]
        claims.merge(overrides) { _, new in new }
        return parts[0] + "." + Self.encode(claims) + "." + parts[2]
    }

    private func signingInput(header: [String: Any], claims: [String: Any]) -> String {
        Self.encode(header) + "." + Self.encode(claims)
    }

    private static func encode(_ object: [String: Any]) -> String {
        Base64URL.encode((try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data())
    }
}
