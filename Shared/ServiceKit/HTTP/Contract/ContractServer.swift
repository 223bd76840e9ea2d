public import Foundation
public import OpenAPIRuntime

/// What every service's generated server stubs share: the runtime configuration matching
/// ``JSONBody``'s conventions and the middlewares generated operations run inside.
///
/// ```swift
/// try handler.registerHandlers(on: router, configuration: ContractServer.configuration,
///                              middlewares: ContractServer.middlewares(prechecks: ["listThings": [.page]],
///                                                                      gate: authenticator.gate([Operations.listThings.id: .authenticated])))
/// ```
public enum ContractServer {
    /// ``JSONBody``'s conventions: dates with fractional seconds, sorted keys, unescaped slashes,
    /// no pretty-printing.
    public static let configuration = Configuration(
        dateTranscoder: .iso8601WithFractionalSeconds, jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes])

    /// ``OperationMiddleware`` with the ``OperationGate`` and the ``RequestPrecheck``s of each
    /// operation id. The gate is required, so no service can forget one (``OperationGate/open``
    /// says so explicitly).
    public static func middlewares(prechecks: [String: [RequestPrecheck]] = [:], gate: OperationGate) -> [any ServerMiddleware] {
        [OperationMiddleware(prechecks: prechecks, gate: gate)]
    }

    /// `value` (a domain type) as the generated type `T` of the same JSON shape: encoded with
    /// ``JSONBody/encoder`` and decoded as `T`, so a value that does not match the contract is
    /// a ``ContractMismatch`` (a logged 500) instead of an off-contract response.
    public static func bridge<T: Decodable>(_ value: some Encodable, to type: T.Type = T.self) throws -> T {
        do {
            return try decoder.decode(T.self, from: JSONBody.encoder.encode(value))
        } catch {
            throw ContractMismatch(type: String(describing: T.self), underlying: String(describing: error))
        }
    }

    /// A response value the contract's schema does not admit: a bug in the service, never the
    /// client's fault.
    public struct ContractMismatch: Error, CustomStringConvertible {
        /// The generated type the value did not decode as.
        public let type: String
        /// Why.
        public let underlying: String
        public var description: String { "response does not match the contract's \(type): \(underlying)" }
    }

    /// `value` (a generated type) as the domain type `T` of the same JSON shape; a decoding
    /// failure is a 400 validation problem naming the field.
    public static func bridge<T: Decodable>(request value: some Encodable, to type: T.Type = T.self) throws -> T {
        try JSONBody.decode(T.self, from: encoder.encode(value))
    }

    private static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let text = try decoder.singleValueContainer().decode(String.self)
            guard let date = try? Date(text, strategy: JSONBody.dateFormat) else {
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "not an ISO 8601 date"))
            }
            return date
        }
        return decoder
    }

    private static var encoder: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .iso8601
        return encoder
    }
}
