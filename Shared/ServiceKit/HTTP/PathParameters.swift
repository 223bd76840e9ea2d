public import Foundation
public import Hummingbird

extension AppRequestContext {
    /// The path parameter `name` as a UUID; a 400 problem naming it otherwise.
    public func uuidParameter(_ name: String) throws -> UUID {
        guard let raw = parameters.get(name), let id = UUID(uuidString: raw) else {
            throw ProblemDetails.validation([.init(field: name, message: "must be a UUID")], detail: "The path has an invalid \(name).")
        }
        return id
    }
}
