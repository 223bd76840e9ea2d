import Crypto
import Foundation

/// One versioned SQL file, `NNNN_description.sql`, applied once in version order.
public struct Migration: Sendable, Equatable {
    /// The number before the first underscore.
    public let version: Int
    /// The file name without `.sql`, for example `0001_create_users`.
    public let name: String
    /// The file's SQL.
    public let sql: String

    /// SHA-256 of the SQL, hex encoded; an applied file whose checksum changes stops startup.
    public var checksum: String {
        SHA256.hash(data: Data(sql.utf8)).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined()
    }

    /// Creates a migration from a file name and its contents.
    public init(fileName: String, sql: String) throws(MigrationError) {
        guard fileName.hasSuffix(".sql") else { throw .invalidFileName(fileName) }
        let name = String(fileName.dropLast(4))
        guard let underscore = name.firstIndex(of: "_"),
              let version = Int(name[..<underscore]), version > 0,
              name[name.index(after: underscore)...].isEmpty == false
        else { throw .invalidFileName(fileName) }
        self.version = version
        self.name = name
        self.sql = sql
    }

    /// Loads every `.sql` file in `directory`, sorted by version; duplicate versions are an error.
    public static func load(from directory: URL) throws(MigrationError) -> [Migration] {
        let files: [String]
        do {
            files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw .directoryUnreadable(directory.path)
        }
        var migrations: [Migration] = []
        for file in files where file.hasSuffix(".sql") {
            let sql: String
            do {
                sql = try String(contentsOf: directory.appendingPathComponent(file), encoding: .utf8)
            } catch {
                throw .directoryUnreadable(directory.appendingPathComponent(file).path)
            }
            migrations.append(try Migration(fileName: file, sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw .duplicateVersion(next.version)
        }
        return migrations
    }
}
