import Contracts
import Foundation
import Testing

@Suite("Contract catalog")
struct CatalogTests {
    @Test("the catalog has the 20 messages of the design, and the refund refusal ADR 0007 adds")
    func count() {
        #expect(ContractCatalog.all.count == 21)
        #expect(ContractCatalog.all.filter { $0.kind == .event }.count == 10)
        #expect(ContractCatalog.all.filter { $0.kind == .command }.count == 4)
        #expect(ContractCatalog.all.filter { $0.kind == .reply }.count == 7)
        #expect(ContractCatalog.contract(forType: PaymentRefundRefusedReply.ceType) != nil)
    }

    @Test("CloudEvents types are unique")
    func uniqueTypes() {
        let types = ContractCatalog.all.map { $0.ceType }
        #expect(Set(types).count == types.count, "duplicates: \(types.filter { type in types.filter { $0 == type }.count > 1 })")
        let names = ContractCatalog.all.map { String(describing: $0) }
        #expect(Set(names).count == names.count)
    }

    @Test("type naming, topic and lookup", arguments: CatalogEntry.all)
    func entry(_ entry: CatalogEntry) throws {
        let type = entry.type
        let pattern = try Regex(#"^orderflow\.[a-z_]+\.(reply\.)?[a-z_]+\.v[0-9]+$"#)
        #expect(type.ceType.wholeMatch(of: pattern) != nil, "\(type.ceType) does not follow orderflow.<service>.[reply.]<name>.vN")
        #expect(Topic.all.contains(type.topic))
        #expect(ContractCatalog.contract(forType: type.ceType).map(ObjectIdentifier.init) == ObjectIdentifier(type))
        #expect(!type.summary.isEmpty && type.summary.hasSuffix("."))
        switch type.kind {
        case .reply:
            #expect(type.topic == .sagaReplies)
            #expect(type.ceType.contains(".reply."))
            #expect(String(describing: type).hasSuffix("Reply"))
        case .command:
            #expect(type.topic.rawValue.hasSuffix(".commands"))
            #expect(!type.ceType.contains(".reply."))
        case .event:
            #expect(type.topic.rawValue.hasSuffix(".events"))
            #expect(!type.ceType.contains(".reply."))
        }
        let service = type.ceType.split(separator: ".")[1]
        if type.kind != .reply {
            #expect(type.topic.rawValue == "orderflow.\(service).\(type.kind == .event ? "events" : "commands")")
        }
    }

    @Test("unknown types are not found")
    func unknown() {
        #expect(ContractCatalog.contract(forType: "orderflow.orders.order_approved.v99") == nil)
        #expect(ContractCatalog.contract(forType: "") == nil)
    }

    @Test("topic names")
    func topics() {
        #expect(Topic.all.map(\.rawValue) == [
            "orderflow.users.events", "orderflow.users.commands", "orderflow.orders.events",
            "orderflow.orders.saga_replies", "orderflow.payments.events", "orderflow.payments.commands",
        ])
        #expect(Topic.deadLetters(consumer: "payments").rawValue == "orderflow.payments.dlq")
        #expect(Topic.deadLetters(consumer: "payments").rawValue == Topic.deadLetterPattern.replacingOccurrences(of: "{consumer}", with: "payments"))
        #expect("\(Topic.sagaReplies)" == "orderflow.orders.saga_replies")
        #expect(Set(ContractCatalog.all.map { $0.topic }) == Set(Topic.all), "every topic carries at least one message")
    }

    @Test("everything in an order's saga is keyed by the order id; user events by the user id")
    func aggregateIDs() {
        #expect(UserRegistered.example.aggregateID == UserRegistered.example.userID)
        #expect(UserSuspended.example.aggregateID == UserSuspended.example.userID)
        #expect(PaymentAuthorized.example.aggregateID == PaymentAuthorized.example.orderID)
        #expect(PaymentAuthorized.example.aggregateID != PaymentAuthorized.example.paymentID)
        #expect(ValidateCustomer.example.aggregateID == ValidateCustomer.example.orderID)
        #expect(CustomerValidatedReply.example.aggregateID == ValidateCustomer.example.orderID)
        #expect(PaymentVoidedReply.example.aggregateID == PaymentVoidedReply.example.orderID)
    }
}
