import Foundation
import Logging
import NIOConcurrencyHelpers
@testable import ServiceKit
import Testing

@Suite("JSON log lines")
struct JSONLogHandlerTests {
    private func capture(_ body: (inout Logger) -> Void) throws -> [[String: Any]] {
        let lines = NIOLockedValueBox<[String]>([])
        var logger = Logger(label: "component") { label in
            JSONLogHandler(label: label, service: "orders", level: .info, sink: LogSink { line in lines.withLockedValue { $0.append(line) } })
        }
        body(&logger)
        return try lines.withLockedValue { $0 }.map { line in
            #expect(line.hasSuffix("\n"))
            #expect(line.dropLast().contains("\n") == false)
            return try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        }
    }

    @Test("one object per line with time, level, service, logger, message and metadata")
    func shape() throws {
        let lines = try capture { logger in
            logger[metadataKey: "request_id"] = "r-1"
            logger.info("order \"placed\"\nsecond line", metadata: ["saga_id": "s-9", "items": .array(["a", "b"])])
            logger.debug("filtered out")
        }
        #expect(lines.count == 1)
        let line = try #require(lines.first)
        #expect(line["level"] as? String == "info")
        #expect(line["service"] as? String == "orders")
        #expect(line["logger"] as? String == "component")
        #expect(line["message"] as? String == "order \"placed\"\nsecond line")
        #expect(line["request_id"] as? String == "r-1")
        #expect(line["saga_id"] as? String == "s-9")
        #expect(line["items"] as? [String] == ["a", "b"])
        let time = try #require(line["time"] as? String)
        #expect(try Date(time, strategy: .iso8601.year().month().day().time(includingFractionalSeconds: true)) <= Date.now)
    }

    @Test("metadata cannot overwrite the fixed fields")
    func reservedKeys() throws {
        let lines = try capture { logger in logger.warning("real", metadata: ["message": "fake", "level": "debug"]) }
        #expect(lines.first?["message"] as? String == "real")
        #expect(lines.first?["level"] as? String == "warning")
    }

    @Test("control characters are escaped")
    func escaping() {
        var writer = JSONLineWriter()
        writer.field("k", .string("a\u{01}b\tc"))
        #expect(writer.finish() == "{\"k\":\"a\\u0001b\\tc\"}\n")
    }
}
