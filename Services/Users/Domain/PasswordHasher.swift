import HummingbirdBcrypt
import NIOCore
import NIOPosix

/// bcrypt hashing and checking, off the event loops (a hash takes tens of milliseconds).
///
/// On a pool of its own (one thread per core), not NIO's shared blocking pool: that pool also
/// runs the readiness probes (Redis, Kafka), Kafka commits and the producer's flush, and a burst
/// of logins — wrong passwords cost as much as right ones — would queue them behind seconds of
/// hashing, and readiness would report Redis and Kafka down.
struct PasswordHasher: Sendable {
    /// The bcrypt cost (log2 of the rounds).
    let cost: UInt8

    /// Started once, for the life of the process.
    private static let pool: NIOThreadPool = {
        let pool = NIOThreadPool(numberOfThreads: max(1, System.coreCount))
        pool.start()
        return pool
    }()

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await Self.pool.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await Self.pool.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
