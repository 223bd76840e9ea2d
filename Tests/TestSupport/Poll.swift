/// Waits for conditions with generous deadlines instead of sleeping and hoping.
public enum Poll {
    public struct TimedOut: Error, CustomStringConvertible {
        public let what: String

        public init(what: String) {
            self.what = what
        }
        public var description: String { "timed out waiting until \(what)" }
    }

    public static func until(_ what: String, deadline: Duration = .seconds(60), _ condition: @Sendable () async throws -> Bool) async throws {
        let clock = ContinuousClock()
        let end = clock.now + deadline
        while clock.now < end {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw TimedOut(what: what)
    }
}
