import Contracts
import Foundation
import Testing

@Suite("Message codec")
struct MessageCodecTests {
    @Test("payloads use snake_case keys, sorted, and RFC 3339 dates with milliseconds")
    func wireFormat() throws {
        let text = String(decoding: try MessageCodec.encode(OrderCreated.example), as: UTF8.self)
        #expect(text == #"{"created_at":"2026-01-01T12:00:00.000Z","customer_id":"019B796D-D600-7000-8000-000000000001","#
            + #""items":[{"product_id":"019B796D-D600-7000-8000-000000000004","quantity":2,"unit_price":{"amount_minor":2499,"currency":"EUR"}}],"#
            + #""order_id":"019B796D-D600-7000-8000-000000000002","total":{"amount_minor":4998,"currency":"EUR"}}"#)
    }

    @Test("absent optionals are omitted and decode back as nil")
    func absentOptional() throws {
        let message = OrderRejected(orderID: UUID(), customerID: UUID(), reason: .timedOut, rejectedAt: Date(timeIntervalSince1970: 0))
        let bytes = try MessageCodec.encode(message)
        #expect(!String(decoding: bytes, as: UTF8.self).contains("detail"))
        #expect(try MessageCodec.decode(OrderRejected.self, from: bytes) == message)
    }

    @Test("times keep millisecond precision and any RFC 3339 offset is read")
    func times() throws {
        let json = #"{"order_id":"019b796d-d600-7000-8000-000000000002","customer_id":"019b796d-d600-7000-8000-000000000001","#
            + #""total":{"amount_minor":1,"currency":"EUR"},"approved_at":"2026-01-01T14:00:00.25+02:00"}"#
        let decoded = try MessageCodec.decode(OrderApproved.self, from: Array(json.utf8))
        #expect(decoded.approvedAt == Date(timeIntervalSince1970: 1_767_268_800.25))
        #expect(String(decoding: try MessageCodec.encode(decoded), as: UTF8.self).contains(#""approved_at":"2026-01-01T12:00:00.250Z""#))
    }

    @Test("a missing field, a bad date and a bad enum value are decoding failures naming the field")
    func failures() throws {
        let valid = String(decoding: try MessageCodec.encode(OrderRejected.example), as: UTF8.self)
        let cases: [(String, String)] = [
            (valid.replacingOccurrences(of: #""order_id""#, with: #""orderId""#), "order_id"),
            (valid.replacingOccurrences(of: "2026-01-01T12:00:00.000Z", with: "01/01/2026"), "rejected_at"),
            (valid.replacingOccurrences(of: "insufficient_funds", with: "bored"), "reason"),
        ]
        for (json, field) in cases {
            #expect {
                try MessageCodec.decode(OrderRejected.self, from: Array(json.utf8))
            } throws: { error in
                guard case .decodingFailed(_, let reason) = error as? ContractCodingError else { return false }
                return reason.contains(field)
            }
        }
    }

    @Test("each example's JSON has exactly the properties of its schema, of the declared types", arguments: CatalogEntry.all)
    func exampleMatchesSchema(_ entry: CatalogEntry) throws {
        try check(entry.type)
    }

    private func check<M: MessageContract>(_ type: M.Type) throws {
        let schema = try JSONSchema.derive(type).root
        let payload = try JSONValue(parsing: try MessageCodec.encode(M.example))
        var problems: [String] = []
        SchemaConformance.check(payload, against: schema, at: "", exact: true, into: &problems)
        #expect(problems.isEmpty, "\(M.self): \(problems)")
    }
}

/// A small JSON Schema checker for the keywords derived schemas use. With `exact`, every
/// declared property must be present (examples populate every optional field) and no
/// undeclared one may appear, which catches encode and decode keys drifting apart.
enum SchemaConformance {
    static func check(_ value: JSONValue, against schema: JSONValue, at path: String, exact: Bool, into problems: inout [String]) {
        switch (schema["type"]?.stringValue, value) {
        case ("string", .string(let text)):
            if let allowed = schema["enum"]?.arrayValue, !allowed.contains(value) {
                problems.append("\(path): \(text) is not one of \(allowed)")
            }
            switch schema["format"]?.stringValue {
            case "uuid" where UUID(uuidString: text) == nil:
                problems.append("\(path): \(text) is not a uuid")
            case "date-time" where (try? Date.ISO8601FormatStyle(includingFractionalSeconds: true).parse(text)) == nil:
                problems.append("\(path): \(text) is not a date-time with fractional seconds")
            default:
                break
            }
        case ("integer", .number(let number)):
            if number.rounded() != number { problems.append("\(path): \(number) is not an integer") }
        case ("number", .number), ("boolean", .bool):
            break
        case ("array", .array(let elements)):
            if exact && elements.isEmpty { problems.append("\(path): empty example array") }
            for element in elements {
                check(element, against: schema["items"] ?? .null, at: path + "[]", exact: exact, into: &problems)
            }
        case ("object", .object(let members)):
            let properties = schema["properties"]?.objectValue ?? [:]
            let required = (schema["required"]?.arrayValue ?? []).compactMap(\.stringValue)
            for key in required where members[key] == nil {
                problems.append("\(path).\(key): required but missing")
            }
            if exact {
                for key in Set(properties.keys).subtracting(members.keys) { problems.append("\(path).\(key): declared but not in the example") }
                for key in Set(members.keys).subtracting(properties.keys) { problems.append("\(path).\(key): encoded but not declared (decoder ignores it)") }
            }
            for (key, member) in members {
                if let property = properties[key] { check(member, against: property, at: "\(path).\(key)", exact: exact, into: &problems) }
            }
        default:
            problems.append("\(path): \(value.compact()) is not of type \(schema["type"]?.compact() ?? "?")")
        }
    }
}
