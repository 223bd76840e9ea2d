import Foundation
import HTTPTypes
import ServiceKit

/// Which headers cross the gateway, in each direction.
///
/// Hop-by-hop headers (RFC 9110 §7.6.1) and those naming the connection never cross; identity
/// and forwarding headers a client sends are dropped so that only the gateway can set them.
enum ForwardedHeaders {
    static let hopByHop: Set<HTTPField.Name> = [
        .connection, .transferEncoding, .te, .trailer, .upgrade, .proxyAuthorization, .proxyAuthenticate,
        .contentLength,
        HTTPField.Name("Keep-Alive"), HTTPField.Name("Proxy-Connection"), HTTPField.Name("Host"),
    ].compactMap { $0 }.reduce(into: []) { $0.insert($1) }

    /// Forwarding headers only the gateway writes (a client's would let it pose as another address).
    static let forwarding: Set<HTTPField.Name> = [
        .forwardedFor, .forwardedProto, HTTPField.Name("Forwarded"), HTTPField.Name("X-Forwarded-Host"), HTTPField.Name("X-Real-IP"),
    ].compactMap { $0 }.reduce(into: []) { $0.insert($1) }

    static let gatewayOwned: Set<HTTPField.Name> = [.authenticatedUserID, .authenticatedRoles].reduce(into: forwarding) { $0.insert($1) }

    /// Whether an answer with `headers` is an event stream (`text/event-stream`, SSE): quiet
    /// between its events, never ending by itself, ended at graceful shutdown.
    static func isEventStream(_ headers: HTTPFields) -> Bool {
        headers[.contentType]?.lowercased().hasPrefix("text/event-stream") == true
    }

    /// The request headers sent upstream: the client's, minus hop-by-hop and gateway-owned
    /// ones (and any header the client's `Connection` header names).
    static func upstreamRequest(from headers: HTTPFields) -> HTTPFields {
        let named = connectionNamed(in: headers)
        var result = HTTPFields()
        result.reserveCapacity(headers.count + 4)
        for field in headers where !hopByHop.contains(field.name) && !gatewayOwned.contains(field.name) && !named.contains(field.name.canonicalName) {
            result.append(field)
        }
        return result
    }

    /// The response headers sent to the client: the upstream's, minus hop-by-hop ones.
    static func clientResponse(from headers: HTTPFields) -> HTTPFields {
        let named = connectionNamed(in: headers)
        var result = HTTPFields()
        result.reserveCapacity(headers.count + 8)
        for field in headers where !hopByHop.contains(field.name) && !named.contains(field.name.canonicalName) {
            result.append(field)
        }
        return result
    }

    private static func connectionNamed(in headers: HTTPFields) -> Set<String> {
        guard let connection = headers[.connection] else { return [] }
        return Set(connection.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces).lowercased() })
    }
}
