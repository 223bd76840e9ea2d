import Foundation
import Logging
import Metrics
import NIOConcurrencyHelpers
#if canImport(Glibc)
import Glibc
#endif

/// The live fault settings (changed by the admin endpoint) and their effects.
final class FaultInjector: Sendable {
    /// The exit status of an injected crash.
    static let crashExitStatus: Int32 = 70
    private let settings: NIOLockedValueBox<FaultSettings>
    private let logger: Logger

    init(_ initial: FaultSettings, logger: Logger) {
        self.settings = NIOLockedValueBox(initial)
        self.logger = logger
        if initial != FaultSettings() { logger.warning("fault injection is on", metadata: ["faults": "\(initial)"]) }
    }

    var current: FaultSettings { settings.withLockedValue { $0 } }

    func replace(with new: FaultSettings) {
        settings.withLockedValue { $0 = new }
        logger.warning("fault injection changed", metadata: ["faults": "\(new)"])
    }

    /// Sleeps the configured latency.
    func delay() async {
        let latency = current.latencyMs
        if latency > 0 { try? await Task.sleep(for: .milliseconds(latency)) }
    }

    /// Whether to decline this authorization.
    func shouldDecline() -> Bool {
        let rate = current.declineRate
        return rate > 0 && Double.random(in: 0..<1) < rate
    }

    /// Takes the armed crash point if it is `point` (it fires once).
    func take(_ point: CrashPoint) -> Bool {
        settings.withLockedValue { settings in
            guard settings.crashPoint == point else { return false }
            settings.crashPoint = nil
            return true
        }
    }

    /// Ends the process at once, as a crash would: no shutdown, no flush, no commit.
    func crash(at point: CrashPoint) -> Never {
        logger.critical("injected crash", metadata: ["fault.crash_point": "\(point.rawValue)"])
        _exit(Self.crashExitStatus)
    }
}
