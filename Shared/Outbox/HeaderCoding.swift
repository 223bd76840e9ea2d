import Contracts
import Foundation

/// Headers as the outbox stores them: a JSON array of `[name, value]` pairs (order kept).
enum HeaderCoding {
    static func encode(_ headers: [CloudEventHeader]) throws -> String {
        let pairs = headers.map { [$0.name, $0.value] }
        return String(decoding: try JSONEncoder().encode(pairs), as: UTF8.self)
    }

    static func decode(_ json: String) throws -> [CloudEventHeader] {
        let pairs = try JSONDecoder().decode([[String]].self, from: Data(json.utf8))
        return pairs.compactMap { $0.count == 2 ? CloudEventHeader(name: $0[0], value: $0[1]) : nil }
    }
}
