import AsyncHTTPClient
public import Foundation
import NIOCore

/// Where a ``TokenVerifier`` gets the keys tokens may be signed with.
public protocol VerificationKeySource: Sendable {
    /// The current keys. Called again after a token names an unknown key id.
    func keys() async throws -> [VerificationKey]
}

/// A fixed key set (the users service verifies with the keys it signs with).
public struct StaticVerificationKeys: VerificationKeySource {
    private let all: [VerificationKey]

    /// The set `keys`.
    public init(_ keys: [VerificationKey]) {
        self.all = keys
    }

    public func keys() async throws -> [VerificationKey] { all }
}

/// The JWKS the users service publishes, fetched over HTTP.
public struct JWKSEndpoint: VerificationKeySource {
    /// Why the key set could not be fetched.
    public enum FetchError: Error, Sendable, Equatable {
        /// The endpoint answered with a status other than 200.
        case status(Int)
        /// The body is not a JWKS with at least one Ed25519 key.
        case noUsableKeys
    }

    /// The JWKS URL, for example `http://127.0.0.1:8081/.well-known/jwks.json`.
    public let url: URL
    private let timeout: Duration

    /// Creates the source; it fetches on demand with `timeout`.
    public init(url: URL, timeout: Duration = .seconds(2)) {
        self.url = url
        self.timeout = timeout
    }

    public func keys() async throws -> [VerificationKey] {
        var request = HTTPClientRequest(url: url.absoluteString)
        request.headers.add(name: "Accept", value: "application/json")
        let response = try await HTTPClient.shared.execute(request, timeout: .milliseconds(Int64(timeout.components.seconds * 1_000)))
        guard response.status.code == 200 else { throw FetchError.status(Int(response.status.code)) }
        let body = try await response.body.collect(upTo: 256 * 1_024)
        let set = try JSONDecoder().decode(JSONWebKeySet.self, from: Data(buffer: body))
        let keys = set.verificationKeys
        guard !keys.isEmpty else { throw FetchError.noUsableKeys }
        return keys
    }
}
