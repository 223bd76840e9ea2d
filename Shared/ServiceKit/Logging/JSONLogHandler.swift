import Foundation
public import Logging

/// A swift-log handler that writes one JSON object per line.
///
/// Every line carries `time` (RFC 3339 with milliseconds, UTC), `level`, `service`, `logger`,
/// `message`, and every metadata entry as a top-level field (request id, trace id, saga id, …).
/// Metadata keys collide with the fixed fields only if a caller chooses to; the fixed fields win.
public struct JSONLogHandler: LogHandler {
    /// The service name written into every line.
    public let service: String
    /// The logger's label (often the component).
    public let label: String
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let sink: LogSink

    /// Creates a handler.
    /// - Parameters:
    ///   - label: The logger label.
    ///   - service: The service name for the `service` field.
    ///   - level: The minimum level written.
    ///   - metadataProvider: Adds context such as trace and span ids to every line.
    ///   - sink: Where lines go (standard output by default).
    public init(
        label: String,
        service: String,
        level: Logger.Level,
        metadataProvider: Logger.MetadataProvider? = nil,
        sink: LogSink = .standardOutput
    ) {
        self.label = label
        self.service = service
        self.logLevel = level
        self.metadataProvider = metadataProvider
        self.sink = sink
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() {
            merged.merge(provided) { _, new in new }
        }
        if let extra = event.metadata {
            merged.merge(extra) { _, new in new }
        }
        var line = JSONLineWriter()
        line.field("time", .string(Self.timestamp()))
        line.field("level", .string(event.level.rawValue))
        line.field("service", .string(service))
        line.field("logger", .string(label))
        line.field("message", .string(event.message.description))
        for key in merged.keys.sorted() where !JSONLineWriter.reservedKeys.contains(key) {
            if let value = merged[key] { line.field(key, JSONLineWriter.Value(value)) }
        }
        sink.write(line.finish())
    }

    private static func timestamp() -> String {
        Date.now.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
