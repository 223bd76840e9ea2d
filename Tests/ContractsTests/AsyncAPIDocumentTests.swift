import Contracts
import Foundation
import Testing

@Suite("AsyncAPI document")
struct AsyncAPIDocumentTests {
    @Test("docs/asyncapi.yaml is the rendered document, byte for byte")
    func committedFileIsCurrent() throws {
        let rendered = AsyncAPIDocument.render()
        let committed = try RepositoryFiles.read(RepositoryFiles.asyncAPI)
        if committed == rendered { return }
        if RepositoryFiles.updating {
            let breaking = try SnapshotDrift.breakingChanges()
            guard breaking.isEmpty else {
                Issue.record("Not rewriting docs/asyncapi.yaml: breaking schema changes need a new .vN type first: \(breaking)")
                return
            }
            try RepositoryFiles.write(rendered, to: RepositoryFiles.asyncAPI)
            return
        }
        let firstDifference = zip((committed ?? "").split(separator: "\n", omittingEmptySubsequences: false), rendered.split(separator: "\n", omittingEmptySubsequences: false))
            .enumerated().first { $0.element.0 != $0.element.1 }
        Issue.record("""
            docs/asyncapi.yaml is \(committed == nil ? "missing" : "out of date")\
            \(firstDifference.map { " (first difference at line \($0.offset + 1): \"\($0.element.0)\" → \"\($0.element.1)\")" } ?? ""). \
            It is generated from Shared/Contracts: run `make contracts`.
            """)
    }

    @Test("rendering is deterministic")
    func deterministic() {
        #expect(AsyncAPIDocument.render() == AsyncAPIDocument.render())
    }

    /// The committed file's outline; under `make contracts`, which rewrites the file while these
    /// tests run, the outline of what is being written.
    private func committedOutline() throws -> AsyncAPIOutline {
        if RepositoryFiles.updating { return AsyncAPIOutline(AsyncAPIDocument.render()) }
        let text = try #require(try RepositoryFiles.read(RepositoryFiles.asyncAPI), "docs/asyncapi.yaml is missing: run `make contracts`")
        return AsyncAPIOutline(text)
    }

    @Test("the committed file's header")
    func header() throws {
        let outline = try committedOutline()
        #expect(outline.values("asyncapi").map(\.value) == ["3.0.0"])
        #expect(outline.values("info", "title").map(\.value) == ["OrderFlow messaging"])
        #expect(outline.values("info", "version").map(\.value) == ["1.0.0"])
        #expect(outline.values("defaultContentType").map(\.value) == ["application/json"])
    }

    @Test("the committed file has one channel per topic plus the dead-letter channel, each listing its messages")
    func channels() throws {
        let outline = try committedOutline()
        let addresses = outline.values("channels", "*", "address")
        #expect(Set(addresses.map(\.value)) == Set(Topic.all.map(\.rawValue) + [Topic.deadLetterPattern]))
        #expect(addresses.count == Topic.all.count + 1)
        #expect(outline.values("channels", "*", "parameters", "consumer", "description").count == 1)
        for (keys, address) in addresses {
            let channel = keys[0]
            let expected = address == Topic.deadLetterPattern ? ContractCatalog.all : ContractCatalog.contracts(on: Topic(rawValue: address))
            let references = outline.values("channels", channel, "messages", "*", "$ref").map(\.value)
            #expect(references == expected.map { "#/components/messages/\(String(describing: $0))" }, "channel \(address)")
        }
    }

    @Test("the committed file has one send operation per channel, naming its messages")
    func operations() throws {
        let outline = try committedOutline()
        let channels = outline.values("channels", "*", "address").map { $0.keys[0] }
        let operationChannels = outline.values("operations", "*", "channel", "$ref")
        #expect(operationChannels.map(\.value).sorted() == channels.map { "#/channels/\($0)" }.sorted())
        for (keys, channelReference) in operationChannels {
            let operation = keys[0]
            #expect(outline.values("operations", operation, "action").map(\.value) == ["send"])
            #expect(outline.values("operations", operation, "summary").first?.value.hasPrefix("Sent by ") == true)
            let channel = String(channelReference.dropFirst("#/channels/".count))
            let channelMessages = outline.values("channels", channel, "messages", "*", "$ref").map { "#/channels/\(channel)/messages/\($0.value.split(separator: "/").last ?? "")" }
            #expect(outline.values("operations", operation, "messages", "$ref").map(\.value) == channelMessages)
        }
    }

    @Test("the committed file describes every catalog message with its headers and derived payload", arguments: CatalogEntry.all)
    func message(_ entry: CatalogEntry) throws {
        try checkMessage(entry.type, in: try committedOutline())
    }

    private func checkMessage<M: MessageContract>(_ type: M.Type, in outline: AsyncAPIOutline) throws {
        let id = String(describing: M.self)
        #expect(outline.values("components", "messages", id, "name").map(\.value) == [M.ceType])
        #expect(outline.values("components", "messages", id, "title").map(\.value) == [id])
        #expect(outline.values("components", "messages", id, "summary").map(\.value) == [M.summary])
        #expect(outline.values("components", "messages", id, "contentType").map(\.value) == ["application/json"])
        let headers = try JSONValue(parsing: Array(try #require(outline.values("components", "messages", id, "headers").first?.value).utf8))
        #expect(headers["properties"]?["ce_type"]?["const"] == .string(M.ceType))
        for name in ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "content-type"] {
            #expect(headers["required"]?.arrayValue?.contains(.string(name)) == true, "\(name) is required")
        }
        let payload = try JSONValue(parsing: Array(try #require(outline.values("components", "messages", id, "payload").first?.value).utf8))
        var expected = try JSONSchema.derive(type).root.objectValue ?? [:]
        expected["$schema"] = nil
        expected["$id"] = nil
        #expect(payload == .object(expected), "payload of \(id) differs from the schema derived from \(id)")
    }

    @Test("the committed file has no messages beyond the catalog")
    func noExtraMessages() throws {
        let names = try committedOutline().values("components", "messages", "*", "name").map(\.value)
        #expect(names.sorted() == ContractCatalog.all.map { $0.ceType }.sorted())
    }
}
