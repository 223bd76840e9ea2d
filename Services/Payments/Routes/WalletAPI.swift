import Auth
import Contracts
import Crypto
import Foundation
import Hummingbird
import Logging
import PostgresNIO
import ServiceKit

/// The payments HTTP API: the caller's wallet, deposits (with `Idempotency-Key`), and the
/// admin-only fault switches.
struct WalletAPI: Sendable {
    let client: PostgresClient
    let ledger: Ledger
    let authenticator: Authenticator
    let faults: FaultInjector
    let logger: Logger

    static let maximumDepositMinor: Int64 = 100_000_000

    func addRoutes(to router: Router<AppRequestContext>) {
        let api = router.group("api/v1")
        api.get("wallet") { request, _ in try await wallet(request) }
        api.post("wallet/deposits") { request, _ in try await deposit(request) }
        api.get("payments/faults") { request, _ in
            _ = try await authenticator.admin(of: request)
            return try JSONBody.response(faults.current)
        }
        api.put("payments/faults") { request, _ in
            _ = try await authenticator.admin(of: request)
            let new = try await JSONBody.decode(FaultSettings.self, from: request)
            guard new.violations.isEmpty else { throw ProblemDetails.validation(new.violations) }
            faults.replace(with: new)
            return try JSONBody.response(new)
        }
    }

    private func wallet(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let page = try PageRequest.parse(request)
        let after = try page.position { Int64($0) }
        return try await client.withConnection { connection in
            guard let wallet = try await ledger.wallet(of: identity.userID, on: connection) else {
                throw ProblemDetails(status: .notFound, type: "/problems/no-wallet", title: "No wallet",
                                     detail: "Your wallet is opened shortly after registration; try again in a moment.")
            }
            let rows = try await connection.query("""
                SELECT e.id, e.transaction_id, t.kind, t.reference, e.amount_minor, e.created_at
                FROM payments.ledger_entries e JOIN payments.ledger_transactions t ON t.id = e.transaction_id
                WHERE e.account_id = \(wallet.accountID) AND (\(after)::bigint IS NULL OR e.id < \(after))
                ORDER BY e.id DESC LIMIT \(page.limit + 1)
                """, logger: logger)
            var entries: [WalletEntry] = []
            for try await (id, transaction, kind, reference, amount, created) in rows.decode((Int64, UUID, String, String, Int64, Date).self) {
                entries.append(WalletEntry(id: id, transactionID: transaction.uuidString.lowercased(), kind: kind, reference: reference, amountMinor: amount, createdAt: created))
            }
            let body = WalletResource(
                userID: identity.userID.uuidString.lowercased(), balance: Money(amountMinor: wallet.balanceMinor, currency: wallet.currency),
                entries: Page(rows: entries, request: page) { String($0.id) }
            )
            return try JSONBody.response(body)
        }
    }

    /// A deposit, made once per `Idempotency-Key`: the key and the response are stored in the
    /// deposit's transaction; a repeat with the same body gets the stored response, with a
    /// different body 422, and while the first is still running 409.
    private func deposit(_ request: Request) async throws -> Response {
        let identity = try await authenticator.identity(of: request)
        let key = try IdempotencyKey.require(in: request)
        var request = request
        let raw = Data(buffer: try await request.collectBody(upTo: JSONBody.maximumRequestBytes))
        let body = try JSONBody.decode(DepositRequest.self, from: raw)
        if !(1...Self.maximumDepositMinor).contains(body.amount.amountMinor) {
            throw ProblemDetails.validation([.init(field: "amount.amount_minor", message: "must be from 1 to \(Self.maximumDepositMinor)")])
        }
        let fingerprint = Data(SHA256.hash(data: raw))
        return try await client.withTransaction(logger: logger) { connection in
            try await IdempotencyKey.lock(key, scope: "deposit", owner: identity.userID, on: connection, logger: logger)
            if let stored = try await IdempotencyRecords.stored(key, userID: identity.userID, on: connection, logger: logger) {
                guard stored.fingerprint == fingerprint else { throw IdempotencyKey.reusedWithDifferentBody }
                return IdempotencyRecords.replay(stored)
            }
            guard let wallet = try await ledger.wallet(of: identity.userID, locking: true, on: connection) else {
                throw ProblemDetails(status: .notFound, type: "/problems/no-wallet", title: "No wallet", detail: "You have no wallet yet.")
            }
            guard wallet.currency == body.amount.currency else {
                throw ProblemDetails(status: .unprocessableContent, type: "/problems/currency-mismatch", title: "Currency mismatch",
                                     detail: "Your wallet holds \(wallet.currency).", errors: [.init(field: "amount.currency", message: "must be \(wallet.currency)")])
            }
            let deposits = try await ledger.systemAccount(.deposits, currency: wallet.currency, on: connection)
            let transaction = try await ledger.post(.transfer(
                .deposit, reference: "deposit:\(key)", amountMinor: body.amount.amountMinor, from: deposits, to: wallet.accountID
            ), on: connection)
            let receipt = DepositReceipt(
                transactionID: transaction.uuidString.lowercased(), amount: body.amount,
                balance: Money(amountMinor: wallet.balanceMinor + body.amount.amountMinor, currency: wallet.currency)
            )
            let encoded = try JSONBody.encoder.encode(receipt)
            try await IdempotencyRecords.store(key, userID: identity.userID, fingerprint: fingerprint, status: 201, body: encoded, on: connection, logger: logger)
            return Response(status: .created, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(data: encoded)))
        }
    }
}

struct DepositRequest: Decodable, Sendable {
    let amount: Money
}

struct DepositReceipt: Codable, Sendable {
    let transactionID: String
    let amount: Money
    let balance: Money

    enum CodingKeys: String, CodingKey {
        case transactionID = "transaction_id"
        case amount, balance
    }
}

struct WalletEntry: Encodable, Sendable {
    let id: Int64
    let transactionID: String
    let kind: String
    let reference: String
    let amountMinor: Int64
    let createdAt: Date

    enum CodingKeys: String, CodingKey {
        case id, kind, reference
        case transactionID = "transaction_id"
        case amountMinor = "amount_minor"
        case createdAt = "created_at"
    }
}

struct WalletResource: Encodable, Sendable {
    let userID: String
    let balance: Money
    let entries: Page<WalletEntry>

    enum CodingKeys: String, CodingKey {
        case userID = "user_id"
        case balance, entries
    }
}
