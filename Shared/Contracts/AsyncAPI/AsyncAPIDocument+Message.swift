extension AsyncAPIDocument {
    /// A `components.messages` entry: name (the CloudEvents type), title, summary, content
    /// type, the CloudEvents headers and the derived payload schema.
    static func component(_ message: any MessageContract.Type) -> YAMLNode {
        .map([
            ("name", .scalar(message.ceType)),
            ("title", .scalar(messageID(message))),
            ("summary", .scalar(message.summary)),
            ("contentType", .scalar(CloudEvent.jsonContentType)),
            ("headers", .json(headers(message))),
            ("payload", .json(payload(message))),
        ])
    }

    /// The derived schema without `$schema` and `$id`: AsyncAPI reads payloads as its own
    /// schema dialect (a JSON Schema superset), and `$id` would be taken as a base URI.
    static func payload(_ message: any MessageContract.Type) -> JSONValue {
        func derive<M: MessageContract>(_ type: M.Type) -> JSONValue {
            do {
                var members = try JSONSchema.derive(type).root.objectValue ?? [:]
                members["$schema"] = nil
                members["$id"] = nil
                return .object(members)
            } catch {
                // The schema snapshot test fails for the same type and says why.
                return .object(["description": .string("schema derivation failed: \(error)")])
            }
        }
        return derive(message)
    }

    /// The binary-mode CloudEvents headers as an object schema. Commands and replies require
    /// `correlation_id` (the saga id); replies also require `causation_id` (the command id).
    static func headers(_ message: any MessageContract.Type) -> JSONValue {
        typealias Names = CloudEventHeader.Names
        func text(_ description: String, format: String? = nil) -> JSONValue {
            var members: [String: JSONValue] = ["type": .string("string"), "description": .string(description)]
            if let format { members["format"] = .string(format) }
            return .object(members)
        }
        func constant(_ value: String) -> JSONValue {
            .object(["type": .string("string"), "const": .string(value)])
        }
        var required = [Names.specVersion, Names.id, Names.type, Names.source, Names.time, Names.subject, Names.contentType]
        if message.kind != .event { required.append(Names.correlationID) }
        if message.kind == .reply { required.append(Names.causationID) }
        return .object([
            "type": .string("object"),
            "required": .array(required.sorted().map(JSONValue.string)),
            "properties": .object([
                Names.specVersion: constant(CloudEvent.specVersion),
                Names.id: text("Event id, a UUIDv7; consumers deduplicate on it.", format: "uuid"),
                Names.type: constant(message.ceType),
                Names.source: text("The producing service."),
                Names.time: text("Creation time, RFC 3339 in UTC with milliseconds.", format: "date-time"),
                Names.subject: text("The aggregate id, also the record key.", format: "uuid"),
                Names.contentType: constant(CloudEvent.jsonContentType),
                Names.correlationID: text("The saga id."),
                Names.causationID: text("The id of the message that caused this one."),
                Names.traceparent: text("W3C trace context."),
                Names.tracestate: text("W3C trace state."),
            ]),
        ])
    }
}
