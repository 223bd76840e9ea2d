/// Whether a message's new schema can replace its old one within the same `.vN` type.
///
/// Breaking: a removed property (a rename is a removal plus an addition), a changed `type` or
/// `format`, a property that became required (including a new required property), a removed
/// enum value, a string that became an enumeration, and objects that stopped allowing
/// additional properties. Compatible: a new optional property, a new enum value.
///
/// A new enum value is compatible only in the schema sense: consumers built before it cannot
/// decode messages that carry it, so producers must not emit it before consumers are upgraded.
public enum SchemaCompatibility {
    /// One sentence per breaking change from `old` to `new`, sorted by where it occurs; empty
    /// when `new` is compatible with `old`.
    public static func breakingChanges(from old: JSONSchema, to new: JSONSchema) -> [String] {
        var changes: [String] = []
        compare(old.root, new.root, at: "", into: &changes)
        return changes
    }

    private static func compare(_ old: JSONValue, _ new: JSONValue, at path: String, into changes: inout [String]) {
        let name = path.isEmpty ? "The message" : "Property `\(path)`"
        let oldType = old["type"]?.stringValue
        let newType = new["type"]?.stringValue
        guard oldType == newType else {
            changes.append("\(name) changed type from \(oldType ?? "any") to \(newType ?? "any").")
            return
        }
        let oldFormat = old["format"]?.stringValue
        let newFormat = new["format"]?.stringValue
        if oldFormat != newFormat {
            changes.append("\(name) changed format from \(oldFormat ?? "none") to \(newFormat ?? "none").")
        }
        compareEnumerations(old["enum"]?.arrayValue, new["enum"]?.arrayValue, name: name, into: &changes)

        switch newType {
        case "object":
            compareObjects(old, new, at: path, into: &changes)
        case "array":
            if let oldItems = old["items"], let newItems = new["items"] {
                compare(oldItems, newItems, at: path.isEmpty ? "[]" : path + "[]", into: &changes)
            }
        default:
            break
        }
    }

    private static func compareEnumerations(_ old: [JSONValue]?, _ new: [JSONValue]?, name: String, into changes: inout [String]) {
        switch (old, new) {
        case (let old?, let new?):
            for value in old where !new.contains(value) {
                changes.append("\(name) no longer allows the value \(value.compact()).")
            }
        case (nil, let new?):
            changes.append("\(name) is now limited to the values \(JSONValue.array(new).compact()).")
        case (_, nil):
            break
        }
    }

    private static func compareObjects(_ old: JSONValue, _ new: JSONValue, at path: String, into changes: inout [String]) {
        let oldProperties = old["properties"]?.objectValue ?? [:]
        let newProperties = new["properties"]?.objectValue ?? [:]
        let oldRequired = Set((old["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let newRequired = Set((new["required"]?.arrayValue ?? []).compactMap(\.stringValue))
        let added = newProperties.keys.filter { oldProperties[$0] == nil }.sorted()
        func child(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

        for key in oldProperties.keys.sorted() {
            guard let newProperty = newProperties[key], let oldProperty = oldProperties[key] else {
                let twins = added.filter { newProperties[$0] == oldProperties[key] }
                let hint = twins.isEmpty ? "" : " (renamed to \(twins.map { "`\(child($0))`" }.joined(separator: " or "))?)"
                changes.append("Property `\(child(key))` was removed\(hint).")
                continue
            }
            compare(oldProperty, newProperty, at: child(key), into: &changes)
        }
        for key in newRequired.subtracting(oldRequired).sorted() {
            if oldProperties[key] != nil {
                changes.append("Property `\(child(key))` became required.")
            } else {
                changes.append("New property `\(child(key))` is required; new properties must be optional.")
            }
        }
        if old["additionalProperties"] != .bool(false), new["additionalProperties"] == .bool(false) {
            changes.append("\(path.isEmpty ? "The message" : "Property `\(path)`") no longer allows additional properties.")
        }
    }
}
