public import Foundation

extension Bundle {
    /// The `Migrations` folder a service target ships as a resource (`resources: [.copy("Migrations")]`).
    public func migrationsDirectory() throws(MigrationError) -> URL {
        guard let url = url(forResource: "Migrations", withExtension: nil) else {
            throw .directoryUnreadable("\(bundlePath)/Migrations")
        }
        return url
    }
}
