public import Foundation

/// The public HTTP contract: `OpenAPI/openapi.yaml` (OpenAPI 3.1), shipped as a resource.
///
/// The gateway serves it at `/openapi.yaml`; the drift test compares its operations with the
/// routes every service registers.
public enum OpenAPIDocument {
    /// The document's bytes, or nil if the resource is missing from the build.
    public static func yaml() -> Data? {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml") else { return nil }
        return try? Data(contentsOf: url)
    }
}
