import Contracts
import Foundation
import Testing

@Suite("CloudEvents envelope")
struct CloudEventTests {
    /// 2026-01-01T12:00:00.123Z, a whole number of milliseconds.
    static let time = Date(timeIntervalSince1970: 1_767_268_800.123)
    static let id = UUID.v7(at: time)

    @Test("every example survives headers + value and decodes back equal", arguments: CatalogEntry.all)
    func roundTrip(_ entry: CatalogEntry) throws {
        try roundTrip(entry.type)
    }

    private func roundTrip<M: MessageContract>(_ type: M.Type) throws {
        let event = try CloudEvent(M.example, source: "orders", id: Self.id, time: Self.time, correlationID: "saga-1", causationID: "cmd-1")
        #expect(event.type == M.ceType)
        #expect(event.subject == M.example.aggregateID.uuidString.lowercased())
        let parsed = try CloudEvent(headers: event.headers, data: event.data)
        #expect(parsed == event)
        #expect(try parsed.decode(M.self) == M.example)
    }

    private func sampleEvent() throws -> CloudEvent {
        var event = try CloudEvent(OrderApproved.example, source: "orders", id: Self.id, time: Self.time, correlationID: "saga-1", causationID: "cmd-1")
        event.traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
        event.tracestate = "vendor=1"
        return event
    }

    @Test("headers come in a fixed order with RFC 3339 UTC milliseconds")
    func headerOrder() throws {
        let headers = try sampleEvent().headers
        #expect(headers.map(\.name) == [
            "ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "ce_subject", "content-type",
            "correlation_id", "causation_id", "traceparent", "tracestate",
        ])
        #expect(headers[0].value == "1.0")
        #expect(headers[1].value == Self.id.uuidString.lowercased())
        #expect(headers[2].value == "orderflow.orders.order_approved.v1")
        #expect(headers[4].value == "2026-01-01T12:00:00.123Z")
        #expect(headers[5].value == "019b796d-d600-7000-8000-000000000002")
        #expect(headers[6].value == "application/json")
    }

    @Test("absent optional attributes are omitted")
    func optionalHeadersOmitted() throws {
        let event = CloudEvent(id: Self.id, type: "t", source: "s", time: Self.time, subject: nil, data: [])
        #expect(event.headers.map(\.name) == ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"])
        let parsed = try CloudEvent(headers: event.headers, data: [])
        #expect(parsed.subject == nil && parsed.correlationID == nil && parsed.traceparent == nil)
    }

    @Test("a missing required header is reported by name", arguments: ["ce_specversion", "ce_id", "ce_type", "ce_source", "ce_time", "content-type"])
    func missingHeader(_ name: String) throws {
        let event = try sampleEvent()
        #expect(throws: EnvelopeError.missingHeader(name)) {
            try CloudEvent(headers: event.headers.filter { $0.name != name }, data: event.data)
        }
    }

    private func replacing(_ name: String, with value: String) throws -> [CloudEventHeader] {
        try sampleEvent().headers.map { $0.name == name ? CloudEventHeader(name: name, value: value) : $0 }
    }

    @Test("malformed ids and times are invalid headers")
    func invalidHeaders() throws {
        let data = try sampleEvent().data
        for (name, value) in [("ce_id", "not-a-uuid"), ("ce_time", "yesterday"), ("ce_time", "2026-01-01 12:00:00Z"), ("ce_time", "2026-01-01T12:00:00"), ("ce_type", "")] {
            #expect(throws: EnvelopeError.invalidHeader(name: name, value: value)) {
                try CloudEvent(headers: try replacing(name, with: value), data: data)
            }
        }
    }

    @Test("other RFC 3339 forms of ce_time are accepted")
    func timeForms() throws {
        let data = try sampleEvent().data
        let offset = try CloudEvent(headers: try replacing("ce_time", with: "2026-01-01T13:00:00.123+01:00"), data: data)
        #expect(offset.time == Self.time)
        let whole = try CloudEvent(headers: try replacing("ce_time", with: "2026-01-01T12:00:00Z"), data: data)
        #expect(whole.time == Date(timeIntervalSince1970: 1_767_268_800))
    }

    @Test("spec version 0.3 is unsupported")
    func specVersion() throws {
        let event = try sampleEvent()
        #expect(throws: EnvelopeError.unsupportedSpecVersion("0.3")) {
            try CloudEvent(headers: try replacing("ce_specversion", with: "0.3"), data: event.data)
        }
    }

    @Test("only JSON payloads are supported")
    func contentType() throws {
        let data = try sampleEvent().data
        #expect(throws: EnvelopeError.unsupportedContentType("text/plain")) {
            try CloudEvent(headers: try replacing("content-type", with: "text/plain"), data: data)
        }
        let withCharset = try CloudEvent(headers: try replacing("content-type", with: "application/json; charset=utf-8"), data: data)
        #expect(withCharset.dataContentType == "application/json; charset=utf-8")
    }

    @Test("a record without a value is missing data")
    func missingData() throws {
        #expect(throws: EnvelopeError.missingData) {
            try CloudEvent(headers: try sampleEvent().headers, data: nil)
        }
    }

    @Test("unknown headers are ignored, names are case-sensitive, the first of a repeated header wins")
    func headerQuirks() throws {
        let event = try sampleEvent()
        let extra = [CloudEventHeader(name: "x-retry", value: "3"), CloudEventHeader(name: "ce_type", value: "other")]
        #expect(try CloudEvent(headers: event.headers + extra, data: event.data) == event)
        let upperCased = event.headers.map { $0.name == "ce_id" ? CloudEventHeader(name: "CE_ID", value: $0.value) : $0 }
        #expect(throws: EnvelopeError.missingHeader("ce_id")) {
            try CloudEvent(headers: upperCased, data: event.data)
        }
    }

    @Test("decoding as the wrong type is a type mismatch")
    func typeMismatch() throws {
        let event = try sampleEvent()
        #expect(throws: ContractCodingError.typeMismatch(expected: OrderRejected.ceType, actual: OrderApproved.ceType)) {
            try event.decode(OrderRejected.self)
        }
    }

    @Test("unknown JSON fields are ignored on decode")
    func unknownFields() throws {
        var event = try sampleEvent()
        var object = try #require(try JSONSerialization.jsonObject(with: Data(event.data)) as? [String: Any])
        object["added_in_a_later_release"] = ["nested": true]
        event.data = Array(try JSONSerialization.data(withJSONObject: object))
        #expect(try event.decode(OrderApproved.self) == OrderApproved.example)
    }

    @Test("a payload that is not the message is a decoding failure")
    func undecodable() throws {
        var event = try sampleEvent()
        for payload in ["{", "[]", #"{"order_id":"x"}"#, ""] {
            event.data = Array(payload.utf8)
            #expect {
                try event.decode(OrderApproved.self)
            } throws: { error in
                guard case .decodingFailed(let type, _) = error as? ContractCodingError else { return false }
                return type == "OrderApproved"
            }
        }
    }

    @Test("errors read as sentences")
    func descriptions() {
        #expect("\(EnvelopeError.missingHeader("ce_id"))" == "CloudEvent header ce_id is missing")
        #expect("\(ContractCodingError.typeMismatch(expected: "a", actual: "b"))" == "expected a message of type a, got b")
    }
}
