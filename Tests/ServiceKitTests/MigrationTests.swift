import Foundation
@testable import ServiceKit
import Testing

@Suite("Migration files")
struct MigrationTests {
    @Test("parses version and name from NNNN_description.sql")
    func parsesFileName() throws {
        let migration = try Migration(fileName: "0007_add_index.sql", sql: "SELECT 1")
        #expect(migration.version == 7)
        #expect(migration.name == "0007_add_index")
    }

    @Test("rejects badly named files", arguments: ["init.sql", "0001.sql", "0000_zero.sql", "abc_x.sql", "0001_x.txt", "0001_.sql"])
    func rejectsBadNames(_ file: String) {
        #expect(throws: MigrationError.invalidFileName(file)) { try Migration(fileName: file, sql: "") }
    }

    @Test("checksum is SHA-256 of the SQL and changes with it")
    func checksum() throws {
        let a = try Migration(fileName: "0001_a.sql", sql: "CREATE TABLE a (x int);")
        let b = try Migration(fileName: "0001_a.sql", sql: "CREATE TABLE a (x bigint);")
        #expect(a.checksum.count == 64)
        #expect(a.checksum == (try Migration(fileName: "0001_a.sql", sql: "CREATE TABLE a (x int);")).checksum)
        #expect(a.checksum != b.checksum)
        // SHA-256("") is a fixed, published value.
        #expect(try Migration(fileName: "0001_e.sql", sql: "").checksum
            == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    @Test("loads a directory sorted by version and refuses duplicate versions")
    func loadsDirectory() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("of-migrations-\(UUID())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        for name in ["0010_c.sql", "0002_b.sql", "0001_a.sql", "README.md"] {
            try "SELECT 1;".write(to: directory.appendingPathComponent(name), atomically: true, encoding: .utf8)
        }
        #expect(try Migration.load(from: directory).map(\.version) == [1, 2, 10])

        try "SELECT 2;".write(to: directory.appendingPathComponent("0002_again.sql"), atomically: true, encoding: .utf8)
        #expect(throws: MigrationError.duplicateVersion(2)) { try Migration.load(from: directory) }
    }

    @Test("every service's bundled migrations load")
    func fixturesLoad() throws {
        let url = try #require(Bundle.module.url(forResource: "Fixtures/migrations-basic", withExtension: nil))
        #expect(try Migration.load(from: url).map(\.version) == [1, 2])
    }
}
