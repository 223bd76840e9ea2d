import Contracts
import Foundation
import Testing

/// `SchemaCompatibility.breakingChanges` on schemas derived from small types, so these tests
/// also exercise the recording decoder.
@Suite("Schema compatibility")
struct SchemaCompatibilityTests {
    enum Status: String, Decodable, CaseIterable, SchemaEnumeration { case open, closed, archived }
    enum StatusWithoutArchived: String, Decodable, CaseIterable, SchemaEnumeration { case open, closed }
    enum StatusWithHeld: String, Decodable, CaseIterable, SchemaEnumeration { case open, closed, archived, held }

    struct Line: Decodable { var sku: String; var quantity: Int }
    struct LineWithTextQuantity: Decodable { var sku: String; var quantity: String }

    struct Base: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: Status; var lines: [Line] }
    struct Removed: Decodable { var id: UUID; var name: String; var note: String?; var status: Status; var lines: [Line] }
    struct Renamed: Decodable { var id: UUID; var title: String; var note: String?; var count: Int; var status: Status; var lines: [Line] }
    struct Retyped: Decodable { var id: UUID; var name: String; var note: String?; var count: Double; var status: Status; var lines: [Line] }
    struct Reformatted: Decodable { var id: String; var name: String; var note: String?; var count: Int; var status: Status; var lines: [Line] }
    struct MadeRequired: Decodable { var id: UUID; var name: String; var note: String; var count: Int; var status: Status; var lines: [Line] }
    struct AddedRequired: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: Status; var lines: [Line]; var extra: Bool }
    struct EnumCaseRemoved: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: StatusWithoutArchived; var lines: [Line] }
    struct NestedRetyped: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: Status; var lines: [LineWithTextQuantity] }
    struct AddedOptional: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: Status; var lines: [Line]; var extra: Bool? }
    struct EnumCaseAdded: Decodable { var id: UUID; var name: String; var note: String?; var count: Int; var status: StatusWithHeld; var lines: [Line] }
    struct MadeOptional: Decodable { var id: UUID; var name: String?; var note: String?; var count: Int; var status: Status; var lines: [Line] }

    private func changes<New: Decodable>(to new: New.Type) throws -> [String] {
        let old = try JSONSchema.derive(Base.self, id: "test.base.v1", title: "Base", description: "old")
        let derived = try JSONSchema.derive(new, id: "test.base.v1", title: "Base", description: "new")
        return SchemaCompatibility.breakingChanges(from: old, to: derived)
    }

    @Test("a removed property is breaking")
    func removed() throws {
        #expect(try changes(to: Removed.self) == ["Property `count` was removed."])
    }

    @Test("a renamed property is breaking: a removal plus an addition")
    func renamed() throws {
        #expect(try changes(to: Renamed.self) == [
            "Property `name` was removed (renamed to `title`?).",
            "New property `title` is required; new properties must be optional.",
        ])
    }

    @Test("a changed type is breaking")
    func retyped() throws {
        #expect(try changes(to: Retyped.self) == ["Property `count` changed type from integer to number."])
    }

    @Test("a changed format is breaking")
    func reformatted() throws {
        #expect(try changes(to: Reformatted.self) == ["Property `id` changed format from uuid to none."])
    }

    @Test("a changed type inside array elements is breaking")
    func nestedRetyped() throws {
        #expect(try changes(to: NestedRetyped.self) == ["Property `lines[].quantity` changed type from integer to string."])
    }

    @Test("a property that became required is breaking")
    func madeRequired() throws {
        #expect(try changes(to: MadeRequired.self) == ["Property `note` became required."])
    }

    @Test("a new required property is breaking")
    func addedRequired() throws {
        #expect(try changes(to: AddedRequired.self) == ["New property `extra` is required; new properties must be optional."])
    }

    @Test("a removed enum case is breaking")
    func enumCaseRemoved() throws {
        #expect(try changes(to: EnumCaseRemoved.self) == ["Property `status` no longer allows the value \"archived\"."])
    }

    @Test("an added optional property, an added enum case and a relaxed requirement are compatible")
    func compatible() throws {
        #expect(try changes(to: AddedOptional.self).isEmpty)
        #expect(try changes(to: EnumCaseAdded.self).isEmpty)
        #expect(try changes(to: MadeOptional.self).isEmpty)
        #expect(try changes(to: Base.self).isEmpty)
    }

    @Test("a compatible change still changes the schema, so the snapshot test asks for an update")
    func compatibleChangeIsVisible() throws {
        let old = try JSONSchema.derive(Base.self, id: "x", title: "Base", description: "d")
        #expect(try JSONSchema.derive(AddedOptional.self, id: "x", title: "Base", description: "d") != old)
        #expect(try JSONSchema.derive(EnumCaseAdded.self, id: "x", title: "Base", description: "d") != old)
    }

    @Test("changes are found in hand-written schemas too, and a string becoming an enumeration is breaking")
    func handWritten() throws {
        let old = try JSONSchema(parsing: Array(#"{"type":"object","properties":{"s":{"type":"string"}},"required":["s"]}"#.utf8))
        let new = try JSONSchema(parsing: Array(#"{"type":"object","properties":{"s":{"type":"string","enum":["a"]}},"required":["s"],"additionalProperties":false}"#.utf8))
        #expect(SchemaCompatibility.breakingChanges(from: old, to: new) == [
            "Property `s` is now limited to the values [\"a\"].",
            "The message no longer allows additional properties.",
        ])
    }
}
