public import Foundation
public import OpenAPIRuntime

/// What every service's generated server stubs share: the runtime configuration matching
/// ``JSONBody``'s conventions and the middlewares generated operations run inside.
///
/// ```swift
/// try handler.registerHandlers(on: router, configuration: ContractServer.configuration,
///                              middlewares: ContractServer.middlewares(prechecks: ["listThings": [.page]]))
/// ```
public enum ContractServer {
    /// Dates with fractional seconds (as ``JSONBody/encoder`` writes them and clients send them).
    public static let configuration = Configuration(dateTranscoder: .iso8601WithFractionalSeconds)

    /// ``CurrentRequestMiddleware``, the request body limit, then the ``RequestPrecheck``s of
    /// each operation id.
    public static func middlewares(prechecks: [String: [RequestPrecheck]] = [:]) -> [any ServerMiddleware] {
        [CurrentRequestMiddleware(), RequestBodyLimit(), RequestPrecheckMiddleware(checks: prechecks)]
    }

    /// `value` (a domain type) as the generated type `T` of the same JSON shape: encoded with
    /// ``JSONBody/encoder`` and decoded as `T`, so a value that does not match the contract is
    /// an error (a 500) instead of an off-contract response.
    public static func bridge<T: Decodable>(_ value: some Encodable, to type: T.Type = T.self) throws -> T {
        try decoder.decode(T.self, from: JSONBody.encoder.encode(value))
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
            guard let date = try? Date(text, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted)) else {
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
