import Contracts
import Foundation
import Testing

/// The recording decoder derives schemas from `init(from:)`.
@Suite("Schema derivation")
struct SchemaDerivationTests {
    @Test("OrderCreated: required keys, formats, nested Money and an array of lines")
    func orderCreated() throws {
        let schema = try JSONSchema.derive(OrderCreated.self).root
        #expect(schema["$schema"] == .string("https://json-schema.org/draft/2020-12/schema"))
        #expect(schema["$id"] == .string("orderflow.orders.order_created.v1"))
        #expect(schema["title"] == .string("OrderCreated"))
        #expect(schema["description"] == .string(OrderCreated.summary))
        #expect(schema["additionalProperties"] == .bool(true))
        #expect(schema["required"] == .array(["created_at", "customer_id", "items", "order_id", "total"].map(JSONValue.string)))
        let properties = try #require(schema["properties"])
        #expect(properties["order_id"] == .object(["type": .string("string"), "format": .string("uuid")]))
        #expect(properties["created_at"] == .object(["type": .string("string"), "format": .string("date-time")]))
        let money = JSONValue.object([
            "type": .string("object"),
            "properties": .object(["amount_minor": .object(["type": .string("integer")]), "currency": .object(["type": .string("string")])]),
            "required": .array([.string("amount_minor"), .string("currency")]),
            "additionalProperties": .bool(true),
        ])
        #expect(properties["total"] == money)
        let line = try #require(properties["items"]?["items"])
        #expect(properties["items"]?["type"] == .string("array"))
        #expect(line["properties"]?["unit_price"] == money)
        #expect(line["properties"]?["quantity"] == .object(["type": .string("integer")]))
    }

    @Test("optional fields are not required; enumerations list every case")
    func optionalsAndEnums() throws {
        let schema = try JSONSchema.derive(OrderRejected.self).root
        #expect(schema["required"] == .array(["customer_id", "order_id", "reason", "rejected_at"].map(JSONValue.string)))
        #expect(schema["properties"]?["detail"] == .object(["type": .string("string")]))
        #expect(schema["properties"]?["reason"]?["enum"] == .array(OrderRejectionReason.allCases.map { .string($0.rawValue) }))
    }

    struct Primitives: Decodable {
        var flag: Bool?
        var ratio: Double
        var small: UInt8?
        var big: Int64
        var matrix: [[Int]]
        var link: URL?
    }

    @Test("primitives, optional primitives and nested arrays")
    func primitives() throws {
        let schema = try JSONSchema.derive(Primitives.self, id: "p", title: "P", description: "d").root
        #expect(schema["required"] == .array(["big", "matrix", "ratio"].map(JSONValue.string)))
        let properties = try #require(schema["properties"])
        #expect(properties["flag"]?["type"] == .string("boolean"))
        #expect(properties["ratio"]?["type"] == .string("number"))
        #expect(properties["small"]?["type"] == .string("integer"))
        #expect(properties["matrix"]?["items"]?["items"]?["type"] == .string("integer"))
        #expect(properties["link"]?["format"] == .string("uri"))
    }

    enum PlainEnum: String, Decodable { case a, b }
    struct UsesPlainEnum: Decodable { var kind: PlainEnum }

    @Test("a raw-value enum that is not a SchemaEnumeration is reported, not guessed")
    func plainEnum() {
        #expect(throws: SchemaError.self) {
            try JSONSchema.derive(UsesPlainEnum.self, id: "e", title: "E", description: "d")
        }
    }

    @Test("a payload that is not an object is refused")
    func notAnObject() {
        #expect(throws: SchemaError.self) {
            try JSONSchema.derive([String].self, id: "a", title: "A", description: "d")
        }
    }

    @Test("snapshot rendering is deterministic pretty JSON with a trailing newline")
    func rendering() throws {
        let value = JSONValue.object(["b": .array([.string("x\"\n"), .number(3), .bool(true), .null]), "a": .object([:]), "c": .array([])])
        #expect(value.prettyPrinted() == """
            {
              "a": {},
              "b": [
                "x\\"\\n",
                3,
                true,
                null
              ],
              "c": []
            }

            """)
        #expect(try JSONValue(parsing: Array(value.prettyPrinted().utf8)) == value)
    }
}
