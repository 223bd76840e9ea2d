import Contracts
import Foundation
import Testing

/// Each message's derived JSON Schema matches its committed snapshot, so every contract change
/// shows up in review, and a breaking one is refused.
@Suite("Schema snapshots")
struct SchemaSnapshotTests {
    @Test("derived schema matches the committed snapshot", arguments: CatalogEntry.all)
    func snapshot(_ entry: CatalogEntry) throws {
        try check(entry.type)
    }

    private func check<M: MessageContract>(_ type: M.Type) throws {
        let derived = try JSONSchema.derive(type)
        let file = RepositoryFiles.schemaFile(M.ceType)
        let committed = try RepositoryFiles.read(file)
        if let committed {
            let old = try JSONSchema(parsing: Array(committed.utf8))
            let breaking = SchemaCompatibility.breakingChanges(from: old, to: derived)
            guard breaking.isEmpty else {
                Issue.record("""
                    \(M.self) (\(M.ceType)) changed incompatibly:
                    \(breaking.map { "  - \($0)" }.joined(separator: "\n"))
                    A breaking change needs a new message type with the next version (\(nextVersion(M.ceType))), \
                    consumed side by side with this one; keep \(M.ceType) and its snapshot unchanged.
                    """)
                return
            }
            if committed == derived.prettyPrinted() { return }
        }
        if RepositoryFiles.updating {
            try RepositoryFiles.write(derived.prettyPrinted(), to: file)
            return
        }
        let problem = committed == nil ? "has no schema snapshot" : "changed compatibly but its snapshot is out of date"
        Issue.record("\(M.self) (\(M.ceType)) \(problem) at \(file.path). Run `make contracts` to update it.")
    }

    @Test("every snapshot file belongs to a catalog message")
    func noOrphanSnapshots() throws {
        let known = Set(ContractCatalog.all.map { "\($0.ceType).schema.json" })
        let files = (try? FileManager.default.contentsOfDirectory(atPath: RepositoryFiles.schemasDirectory.path)) ?? []
        let orphans = files.filter { $0.hasSuffix(".schema.json") && !known.contains($0) }.sorted()
        #expect(
            orphans.isEmpty,
            "Snapshots without a message type in ContractCatalog.all: \(orphans). Removing a message type breaks its consumers; if it is truly retired, delete its snapshot by hand."
        )
    }

    /// `orderflow.orders.order_approved.v1` → `orderflow.orders.order_approved.v2`.
    private func nextVersion(_ ceType: String) -> String {
        guard let range = ceType.range(of: ".v", options: .backwards), let version = Int(ceType[range.upperBound...]) else {
            return ceType + ".v2"
        }
        return ceType[..<range.lowerBound] + ".v\(version + 1)"
    }
}
