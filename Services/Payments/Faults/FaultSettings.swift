import Foundation
import ServiceKit

/// Where payments can be told to die, to study recovery.
enum CrashPoint: String, Codable, Sendable, CaseIterable {
    /// Exit right after an authorization committed, before the relay publishes its reply.
    case afterCommitBeforeReply = "after_commit_before_reply"
    /// Exit inside the authorization's transaction, before it commits (nothing is kept).
    case beforeCommit = "before_commit"
}

/// The faults payments injects into `authorize_payment`; all off by default.
struct FaultSettings: Codable, Sendable, Equatable {
    /// The share of authorizations declined with `injected_fault` (0 to 1).
    var declineRate: Double = 0
    /// Added to every command's handling.
    var latencyMs: Int = 0
    /// Where the next authorization exits the process, if anywhere (fires once).
    var crashPoint: CrashPoint?

    enum CodingKeys: String, CodingKey {
        case declineRate = "decline_rate"
        case latencyMs = "latency_ms"
        case crashPoint = "crash_point"
    }

    init(declineRate: Double = 0, latencyMs: Int = 0, crashPoint: CrashPoint? = nil) {
        self.declineRate = declineRate
        self.latencyMs = latencyMs
        self.crashPoint = crashPoint
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        declineRate = try container.decodeIfPresent(Double.self, forKey: .declineRate) ?? 0
        latencyMs = try container.decodeIfPresent(Int.self, forKey: .latencyMs) ?? 0
        crashPoint = try container.decodeIfPresent(CrashPoint.self, forKey: .crashPoint)
    }

    /// The field errors of out-of-range values (empty when valid).
    var violations: [ProblemDetails.FieldError] {
        var errors: [ProblemDetails.FieldError] = []
        if !(0...1).contains(declineRate) { errors.append(.init(field: "decline_rate", message: "must be between 0 and 1")) }
        if !(0...60_000).contains(latencyMs) { errors.append(.init(field: "latency_ms", message: "must be between 0 and 60000")) }
        return errors
    }

    static let declineRateKey = SettingKey("payments.fault.decline.rate", expecting: "a number from 0 to 1")
    static let latencyKey = SettingKey("payments.fault.latency.ms", expecting: "milliseconds 0-60000")
    static let crashPointKey = SettingKey(
        "payments.fault.crash.point", expecting: CrashPoint.allCases.map(\.rawValue).joined(separator: " or ")
    )

    /// `PAYMENTS_FAULT_DECLINE_RATE`, `PAYMENTS_FAULT_LATENCY_MS`, `PAYMENTS_FAULT_CRASH_POINT`.
    static func read(from settings: Settings) throws(ConfigurationError) -> FaultSettings {
        FaultSettings(
            declineRate: try settings.optionalParsed(declineRateKey) { Double($0).flatMap { (0...1).contains($0) ? $0 : nil } } ?? 0,
            latencyMs: try settings.optionalParsed(latencyKey) { Int($0).flatMap { (0...60_000).contains($0) ? $0 : nil } } ?? 0,
            crashPoint: try settings.optionalParsed(crashPointKey, CrashPoint.init(rawValue:))
        )
    }
}
