import Foundation

/// A message type of the OrderFlow contract: an event, a command or a reply.
///
/// Each conforming type is one version of one message; its ``ceType`` ends in `.vN`. Within a
/// version only optional fields may be added; a breaking change is a new type with the next
/// version, consumed side by side with the old one. The JSON Schema snapshots in
/// `Shared/Contracts/Schemas` and their test enforce this.
///
/// Wire keys are snake_case, spelled out by explicit `CodingKeys` on every type.
public protocol MessageContract: Codable, Sendable, Equatable {
    /// The CloudEvents type, for example `orderflow.orders.order_approved.v1`.
    static var ceType: String { get }
    /// The topic the message is published on.
    static var topic: Topic { get }
    /// Whether the message is an event, a command or a reply.
    static var kind: MessageKind { get }
    /// One sentence describing the message, used in the AsyncAPI document.
    static var summary: String { get }
    /// A sample message with every optional field populated.
    static var example: Self { get }
    /// The Kafka key and `ce_subject`: the order id for everything in an order's saga.
    var aggregateID: UUID { get }
}
