import HummingbirdBcrypt
import NIOPosix

/// bcrypt hashing and checking, off the event loops (a hash takes tens of milliseconds).
struct PasswordHasher: Sendable {
    /// The bcrypt cost (log2 of the rounds).
    let cost: UInt8

    func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String) async throws -> Bool {
        try await NIOThreadPool.singleton.runIfActive { Bcrypt.verify(password, hash: hash) }
    }
}
