import Foundation
import Testing

/// Shapes in `openapi.yaml` that swift-openapi-generator 1.14 accepts but does not generate:
/// the services compile, and the property is silently missing from the generated type (ADR 0008).
@Suite("OpenAPI document: no shapes the generator drops")
struct OpenAPIGeneratorLimitsTests {
    static let document = RepositoryFiles.root.appendingPathComponent("Shared/Contracts/OpenAPI/openapi.yaml")

    @Test("no oneOf/anyOf branch is `type: 'null'` (write the property as a plain $ref or `type: [T, 'null']`)")
    func noNullBranches() throws {
        let text = try #require(try RepositoryFiles.read(Self.document), "openapi.yaml is missing")
        let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var offenders: [String] = []
        for (index, line) in lines.enumerated() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard trimmed == "oneOf:" || trimmed == "anyOf:" else { continue }
            let indent = line.prefix { $0 == " " }.count
            // The composition's branches: the following lines indented deeper than the key.
            for branch in lines[(index + 1)...].prefix(while: { $0.prefix { $0 == " " }.count > indent || $0.isEmpty }) {
                let item = branch.trimmingCharacters(in: .whitespaces)
                if ["- type: 'null'", "- type: \"null\"", "- type: null"].contains(item) {
                    offenders.append("line \(index + 1): \(trimmed)")
                }
            }
        }
        #expect(offenders.isEmpty, "the generator drops these properties: \(offenders)")
    }
}
