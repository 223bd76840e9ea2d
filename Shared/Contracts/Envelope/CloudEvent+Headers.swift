import Foundation

extension CloudEvent {
    /// The binary-mode Kafka headers, in a fixed order.
    ///
    /// `ce_specversion`, `ce_id`, `ce_type`, `ce_source`, `ce_time` (RFC 3339 in UTC with
    /// milliseconds), `ce_subject`, `content-type`, `correlation_id`, `causation_id`,
    /// `traceparent`, `tracestate`; absent optional attributes are omitted.
    public var headers: [CloudEventHeader] {
        typealias Names = CloudEventHeader.Names
        var headers = [
            CloudEventHeader(name: Names.specVersion, value: CloudEvent.specVersion),
            CloudEventHeader(name: Names.id, value: id.uuidString.lowercased()),
            CloudEventHeader(name: Names.type, value: type),
            CloudEventHeader(name: Names.source, value: source),
            CloudEventHeader(name: Names.time, value: RFC3339.format(time)),
        ]
        let optional: [(String, String?)] = [
            (Names.subject, subject),
            (Names.contentType, dataContentType),
            (Names.correlationID, correlationID),
            (Names.causationID, causationID),
            (Names.traceparent, traceparent),
            (Names.tracestate, tracestate),
        ]
        for case let (name, value?) in optional {
            headers.append(CloudEventHeader(name: name, value: value))
        }
        return headers
    }

    /// Parses binary-mode headers and the record value.
    ///
    /// Header names are case-sensitive; when a name repeats, the first occurrence wins; headers
    /// this type does not know are ignored. `ce_specversion`, `ce_id`, `ce_type`, `ce_source`,
    /// `ce_time` and `content-type` are required, and the content type must be
    /// `application/json` (parameters such as `charset` are allowed).
    public init(headers: [CloudEventHeader], data: [UInt8]?) throws(EnvelopeError) {
        typealias Names = CloudEventHeader.Names
        func value(_ name: String) -> String? {
            headers.first { $0.name == name }?.value
        }
        func required(_ name: String) throws(EnvelopeError) -> String {
            guard let text = value(name) else { throw .missingHeader(name) }
            guard !text.isEmpty else { throw .invalidHeader(name: name, value: text) }
            return text
        }

        let specVersion = try required(Names.specVersion)
        guard specVersion == CloudEvent.specVersion else { throw .unsupportedSpecVersion(specVersion) }
        let idText = try required(Names.id)
        guard let id = UUID(uuidString: idText) else { throw .invalidHeader(name: Names.id, value: idText) }
        let type = try required(Names.type)
        let source = try required(Names.source)
        let timeText = try required(Names.time)
        guard let time = RFC3339.parse(timeText) else { throw .invalidHeader(name: Names.time, value: timeText) }
        let contentType = try required(Names.contentType)
        guard Self.isJSON(contentType) else { throw .unsupportedContentType(contentType) }
        guard let data else { throw .missingData }

        self.init(
            id: id,
            type: type,
            source: source,
            time: time,
            subject: value(Names.subject),
            dataContentType: contentType,
            correlationID: value(Names.correlationID),
            causationID: value(Names.causationID),
            traceparent: value(Names.traceparent),
            tracestate: value(Names.tracestate),
            data: data
        )
    }

    /// `application/json`, in any case, optionally followed by parameters.
    private static func isJSON(_ contentType: String) -> Bool {
        let mediaType = contentType.split(separator: ";", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return mediaType.trimmingCharacters(in: .whitespaces).lowercased() == jsonContentType
    }
}
