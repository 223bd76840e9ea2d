import CRdKafka
import Logging
import NIOConcurrencyHelpers

/// What a librdkafka handle tells us through callbacks: log lines and errors.
///
/// Passed to librdkafka as the handle's opaque (unretained; the owner keeps it alive for the
/// handle's lifetime). librdkafka's own log lines are routed into swift-log, so they come out as
/// JSON like everything else instead of raw text on standard error.
final class ClientEvents: Sendable {
    let logger: Logger
    private let fatal = NIOLockedValueBox(false)
    /// The consumer whose rebalances this handle reports (consumers only; cleared on close).
    let rebalanceTarget = NIOLockedValueBox<ConsumerCore?>(nil)

    init(logger: Logger) {
        self.logger = logger
    }

    /// Whether the handle must be replaced: librdkafka raised a fatal error, or a producer's
    /// message timed out (see ``requestReplacement()``).
    var needsReplacement: Bool { fatal.withLockedValue { $0 } }

    /// Asks the owner to replace the handle before its next use.
    func requestReplacement() {
        fatal.withLockedValue { $0 = true }
    }

    /// Installs the log and error callbacks on `conf` with `self` as the opaque.
    func install(on conf: OpaquePointer) {
        rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(self).toOpaque())
        rd_kafka_conf_set_log_cb(conf, clientLogCallback)
        rd_kafka_conf_set_error_cb(conf, clientErrorCallback)
    }

    fileprivate static func from(_ handle: OpaquePointer?) -> ClientEvents? {
        guard let handle, let opaque = rd_kafka_opaque(handle) else { return nil }
        return Unmanaged<ClientEvents>.fromOpaque(opaque).takeUnretainedValue()
    }
}

private let clientLogCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafePointer<CChar>?) -> Void = { handle, level, facility, text in
    guard let events = ClientEvents.from(handle) else { return }
    let message = text.map { String(cString: $0) } ?? ""
    let metadata: Logger.Metadata = ["kafka.facility": .string(facility.map { String(cString: $0) } ?? "")]
    // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug. The warning that a property is
    // experimental goes to debug: the relay sets `enable.gapless.guarantee` on purpose (ADR 0005),
    // and `--print-routes` must print nothing but its routes.
    let level = level == 4 && message.contains("is experimental") ? 7 : level
    switch level {
    case ...3: events.logger.error("librdkafka: \(message)", metadata: metadata)
    case 4: events.logger.warning("librdkafka: \(message)", metadata: metadata)
    case 5, 6: events.logger.info("librdkafka: \(message)", metadata: metadata)
    default: events.logger.debug("librdkafka: \(message)", metadata: metadata)
    }
}

private let clientErrorCallback: @convention(c) (OpaquePointer?, Int32, UnsafePointer<CChar>?, UnsafeMutableRawPointer?) -> Void = { handle, code, reason, opaque in
    guard let opaque else { return }
    let events = Unmanaged<ClientEvents>.fromOpaque(opaque).takeUnretainedValue()
    events.report(rd_kafka_resp_err_t(rawValue: code), reason: reason.map { String(cString: $0) } ?? "", isFatal: code == RD_KAFKA_RESP_ERR__FATAL.rawValue)
}

extension ClientEvents {
    /// Handles an error librdkafka reported (through the error callback or an error event).
    func report(_ error: rd_kafka_resp_err_t, reason: String, isFatal: Bool) {
        if isFatal {
            requestReplacement()
            logger.error("kafka fatal error; the client will be recreated", metadata: ["error": .string(reason)])
        } else {
            // Transport errors are expected while a broker restarts; librdkafka retries on its own.
            logger.warning("kafka client error", metadata: ["error": .string(reason), "error.code": .string(String(cString: rd_kafka_err2name(error)))])
        }
    }
}
