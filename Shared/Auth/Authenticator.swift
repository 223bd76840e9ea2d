public import Hummingbird
import Logging
import Metrics
public import ServiceKit

/// Turns a request's bearer token into an ``Identity``, or refuses it.
///
/// Services admit each generated operation through ``gate(_:)`` (``OperationAccess``), which calls
/// ``identity(of:)`` or ``admin(of:)`` before the request is read; the failures are
/// ``AuthFailure``s, which answer as 401 problems (403 for a missing role). When a ``RevocationList`` is given, a
/// revoked token is refused; if the list cannot be read (Redis down) the request passes and
/// `auth_revocation_check_failures_total` counts it, since access tokens are short-lived.
public struct Authenticator: Sendable {
    private let verifier: TokenVerifier
    private let revocations: (any RevocationList)?
    private let logger: Logger
    private let revocationFailures = Counter(label: "auth_revocation_check_failures_total")

    /// Creates an authenticator.
    public init(verifier: TokenVerifier, revocations: (any RevocationList)?, logger: Logger) {
        self.verifier = verifier
        self.revocations = revocations
        self.logger = logger
    }

    /// The identity the bearer token in `headerFields` speaks for (generated handlers pass
    /// `CurrentRequest.headerFields`).
    public func identity(of headerFields: HTTPFields) async throws(AuthFailure) -> Identity {
        guard let token = Self.bearerToken(in: headerFields) else { throw .missingToken }
        return try await identity(ofToken: token)
    }

    /// The token of an `Authorization: Bearer <token>` header, or nil when there is none.
    public static func bearerToken(in request: Request) -> String? {
        bearerToken(in: request.headers)
    }

    /// The token of an `Authorization: Bearer <token>` field, or nil when there is none.
    ///
    /// The scheme matches case-insensitively; spaces and tabs around the token are dropped. Runs
    /// on every authenticated request, so it scans UTF-8 bytes instead of using Foundation.
    public static func bearerToken(in headerFields: HTTPFields) -> String? {
        guard let header = headerFields[.authorization] else { return nil }
        let bytes = header.utf8
        let scheme = "bearer ".utf8
        guard bytes.count > scheme.count,
              zip(bytes, scheme).allSatisfy({ byte, expected in Self.asciiLowercased(byte) == expected })
        else { return nil }
        let isBlank = { (byte: UInt8) in byte == UInt8(ascii: " ") || byte == UInt8(ascii: "\t") }
        let rest = bytes.dropFirst(scheme.count)
        guard let first = rest.firstIndex(where: { !isBlank($0) }), let last = rest.lastIndex(where: { !isBlank($0) }) else { return nil }
        return String(Substring(rest[first...last]))
    }

    private static func asciiLowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    /// The identity `token` speaks for.
    public func identity(ofToken token: String) async throws(AuthFailure) -> Identity {
        let identity = try await verifier.verify(token)
        if let revocations {
            do {
                if try await revocations.isRevoked(tokenID: identity.tokenID, userID: identity.userID) { throw AuthFailure.revoked }
            } catch let failure as AuthFailure {
                throw failure
            } catch {
                revocationFailures.increment()
                logger.warning("revocation list unavailable; token accepted", metadata: ["error": "\(error)"])
            }
        }
        return identity
    }

    /// The identity of the bearer token in `headerFields`, which must hold the `admin` role.
    public func admin(of headerFields: HTTPFields) async throws -> Identity {
        let identity = try await identity(of: headerFields)
        guard identity.isAdmin else {
            throw Self.adminRequired
        }
        return identity
    }
}

extension AuthFailure: ProblemConvertible {}

extension Authenticator {
    /// The 403 for a caller without the `admin` role.
    static let adminRequired = ProblemDetails(
        status: .forbidden, type: "/problems/forbidden", title: "Forbidden", detail: "This operation needs the admin role.")
}
