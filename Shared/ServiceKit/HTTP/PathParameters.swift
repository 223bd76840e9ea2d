public import Foundation

extension UUID {
    /// The path parameter `name` (already extracted, as generated handlers have it) as a UUID;
    /// a 400 problem naming it otherwise.
    public static func pathParameter(_ raw: String, name: String) throws -> UUID {
        guard let id = UUID(uuidString: raw) else {
            throw ProblemDetails.validation([.init(field: name, message: "must be a UUID")], detail: "The path has an invalid \(name).")
        }
        return id
    }
}
