import Contracts
import Foundation
import Testing

/// Paths of the committed contract files, found relative to this source file, and the switch
/// that lets `make contracts` rewrite them.
enum RepositoryFiles {
    /// The repository root: Tests/ContractsTests/<this file> → three levels up.
    static let root = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()
        .deletingLastPathComponent()
        .deletingLastPathComponent()

    static let schemasDirectory = root.appendingPathComponent("Shared/Contracts/Schemas", isDirectory: true)
    static let asyncAPI = root.appendingPathComponent("docs/asyncapi.yaml")

    /// `ORDERFLOW_UPDATE_CONTRACTS=1` (set by `make contracts`): write snapshots instead of failing.
    static var updating: Bool {
        ProcessInfo.processInfo.environment["ORDERFLOW_UPDATE_CONTRACTS"] == "1"
    }

    static func schemaFile(_ ceType: String) -> URL {
        schemasDirectory.appendingPathComponent("\(ceType).schema.json")
    }

    /// The file's text, or nil when it does not exist.
    static func read(_ url: URL) throws -> String? {
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        return String(decoding: try Data(contentsOf: url), as: UTF8.self)
    }

    static func write(_ text: String, to url: URL) throws {
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        try Data(text.utf8).write(to: url, options: .atomic)
    }
}

/// One catalog message type as a test argument, shown by its CloudEvents type.
struct CatalogEntry: Sendable, CustomTestStringConvertible {
    let type: any MessageContract.Type
    var testDescription: String { type.ceType }

    static let all = ContractCatalog.all.map(CatalogEntry.init)
}

/// The breaking changes between every committed snapshot and the schema derived now.
enum SnapshotDrift {
    static func breakingChanges() throws -> [String] {
        var changes: [String] = []
        for type in ContractCatalog.all {
            changes += try breakingChanges(type)
        }
        return changes
    }

    private static func breakingChanges<M: MessageContract>(_ type: M.Type) throws -> [String] {
        guard let text = try RepositoryFiles.read(RepositoryFiles.schemaFile(M.ceType)) else { return [] }
        let old = try JSONSchema(parsing: Array(text.utf8))
        return SchemaCompatibility.breakingChanges(from: old, to: try JSONSchema.derive(type)).map { "\(M.ceType): \($0)" }
    }
}
