@testable import Gateway
import HTTPTypes
import Testing

@Suite("Retry backoff")
struct RetryBackoffTests {
    @Test("only idempotent methods are retried")
    func idempotent() {
        #expect([HTTPRequest.Method.get, .head, .options, .put, .delete].allSatisfy(RetryBackoff.isIdempotent))
        #expect(![HTTPRequest.Method.post, .patch].contains(where: RetryBackoff.isIdempotent))
    }

    @Test("delays are jittered within an exponentially growing, capped ceiling")
    func delays() {
        let backoff = RetryBackoff(base: .milliseconds(25), cap: .milliseconds(400))
        var generator = SystemRandomNumberGenerator()
        for attempt in 1...8 {
            let ceiling = min(Duration.milliseconds(400), .milliseconds(25) * (1 << (attempt - 1)))
            let samples = (0..<200).map { _ in backoff.delay(beforeRetry: attempt, using: &generator) }
            #expect(samples.allSatisfy { $0 >= .zero && $0 <= ceiling }, "attempt \(attempt)")
            #expect(Set(samples).count > 1, "jitter varies the delay")
        }
    }
}
