import Auth
import Contracts
import Crypto
import Foundation
import Logging
import OpenAPIRuntime
import PostgresNIO
import ServiceKit

/// The payments HTTP API — the caller's wallet, deposits (with `Idempotency-Key`), and the
/// admin-only fault switches — as the implementation of the `APIProtocol` generated from the
/// `payments` tag of the contract (`openapi-generator-config.yaml`).
struct WalletAPI: APIProtocol {
    let client: PostgresClient
    let ledger: Ledger
    let faults: FaultInjector
    let logger: Logger

    static let maximumDepositMinor: Int64 = 100_000_000

    /// Who may call each operation (``OperationAccess``); the gate verifies before the request is read.
    static let access: [String: OperationAccess] = [
        Operations.getWallet.id: .authenticated, Operations.createDeposit.id: .authenticated,
        Operations.getPaymentFaults.id: .admin, Operations.replacePaymentFaults.id: .admin,
    ]

    /// The checks the generated code cannot express (see ``RequestPrecheck``).
    static let prechecks: [String: [RequestPrecheck]] = [Operations.getWallet.id: [.page], Operations.createDeposit.id: [.idempotencyKey]]

    func getWallet(_ input: Operations.getWallet.Input) async throws -> Operations.getWallet.Output {
        let identity = try Identity.caller()
        let page = try PageRequest.parse(limit: input.query.limit, cursor: input.query.cursor)
        let after = try page.position { Int64($0) }
        let body = try await client.withConnection { connection in
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
            return WalletResource(
                userID: identity.userID.uuidString.lowercased(), balance: Money(amountMinor: wallet.balanceMinor, currency: wallet.currency),
                entries: Page(rows: entries, request: page) { String($0.id) }
            )
        }
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(body))))
    }

    /// A deposit, made once per `Idempotency-Key`: the key and the response are stored in the
    /// deposit's transaction; a repeat with the same body gets the stored response, with a
    /// different body 422, and while the first is still running 409. The body's fingerprint is
    /// taken over its decoded form, so spacing and key order do not make a body "different".
    func createDeposit(_ input: Operations.createDeposit.Input) async throws -> Operations.createDeposit.Output {
        let identity = try Identity.caller()
        // The header as sent: the generated `Input` holds it percent-decoded ("50%off" → "").
        let key = try IdempotencyKey.require(in: CurrentRequest.headerFields)
        guard case .json(let request) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        // Through the domain type, whose decoding checks the ISO 4217 code.
        let amount = (try ContractServer.bridge(request: request, to: DepositRequest.self)).amount
        if !(1...Self.maximumDepositMinor).contains(amount.amountMinor) {
            throw ProblemDetails.validation([.init(field: "amount.amount_minor", message: "must be from 1 to \(Self.maximumDepositMinor)")])
        }
        let fingerprint = Data(SHA256.hash(data: try JSONBody.encoder.encode(DepositRequest(amount: amount))))
        let (receipt, replayed) = try await client.withTransaction(logger: logger) { connection -> (DepositReceipt, Bool) in
            try await IdempotencyKey.lock(key, scope: "deposit", owner: identity.userID, on: connection, logger: logger)
            if let stored = try await IdempotencyRecords.stored(key, userID: identity.userID, on: connection, logger: logger) {
                guard stored.fingerprint == fingerprint else { throw IdempotencyKey.reusedWithDifferentBody }
                return (try JSONBody.decode(DepositReceipt.self, from: stored.body), true)
            }
            guard let wallet = try await ledger.wallet(of: identity.userID, locking: true, on: connection) else {
                throw ProblemDetails(status: .notFound, type: "/problems/no-wallet", title: "No wallet", detail: "You have no wallet yet.")
            }
            guard wallet.currency == amount.currency else {
                throw ProblemDetails(status: .unprocessableContent, type: "/problems/currency-mismatch", title: "Currency mismatch",
                                     detail: "Your wallet holds \(wallet.currency).", errors: [.init(field: "amount.currency", message: "must be \(wallet.currency)")])
            }
            let deposits = try await ledger.systemAccount(.deposits, currency: wallet.currency, on: connection)
            let transaction = try await ledger.post(.transfer(
                .deposit, reference: "deposit:\(key)", amountMinor: amount.amountMinor, from: deposits, to: wallet.accountID
            ), on: connection)
            let receipt = DepositReceipt(
                transactionID: transaction.uuidString.lowercased(), amount: amount,
                balance: Money(amountMinor: wallet.balanceMinor + amount.amountMinor, currency: wallet.currency)
            )
            try await IdempotencyRecords.store(key, userID: identity.userID, fingerprint: fingerprint, status: 201,
                                               body: try JSONBody.encoder.encode(receipt), on: connection, logger: logger)
            return (receipt, false)
        }
        let headers = Operations.createDeposit.Output.Created.Headers(
            X_hyphen_Request_hyphen_ID: CurrentRequest.requestID, Idempotent_hyphen_Replayed: replayed ? ._true : nil)
        return .created(.init(headers: headers, body: .json(try ContractServer.bridge(receipt))))
    }

    func getPaymentFaults(_ input: Operations.getPaymentFaults.Input) async throws -> Operations.getPaymentFaults.Output {
        _ = try Identity.admin()
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(faults.current))))
    }

    func replacePaymentFaults(_ input: Operations.replacePaymentFaults.Input) async throws -> Operations.replacePaymentFaults.Output {
        _ = try Identity.admin()
        guard case .json(let update) = input.body else { throw ProblemDetails(status: .unsupportedMediaType) }
        let new: FaultSettings = try ContractServer.bridge(request: update)
        guard new.violations.isEmpty else { throw ProblemDetails.validation(new.violations) }
        faults.replace(with: new)
        return .ok(.init(headers: .init(X_hyphen_Request_hyphen_ID: CurrentRequest.requestID), body: .json(try ContractServer.bridge(new))))
    }
}

struct DepositRequest: Codable, Sendable {
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
