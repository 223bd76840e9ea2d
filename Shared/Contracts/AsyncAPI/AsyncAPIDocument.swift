/// The AsyncAPI 3.0 description of every OrderFlow topic and message, generated from
/// ``Topic`` and ``ContractCatalog``.
///
/// `docs/asyncapi.yaml` is this document; a test compares them byte for byte, and
/// `make contracts` rewrites the file. Message payloads are the schemas derived with
/// ``JSONSchema/derive(_:)``, inlined as JSON (which is YAML).
public enum AsyncAPIDocument {
    /// The AsyncAPI document's text; the same catalog always renders the same bytes.
    public static func render() -> String {
        let topics = Topic.all
        let messages = ContractCatalog.all
        var channels: [(String, YAMLNode)] = topics.map { topic in
            (channelID(topic), channel(topic, messages: ContractCatalog.contracts(on: topic)))
        }
        channels.append((deadLetterChannelID, deadLetterChannel(messages: messages)))
        var operations: [(String, YAMLNode)] = topics.map { topic in
            operation(channelID: channelID(topic), producers: producers(of: ContractCatalog.contracts(on: topic)), messages: ContractCatalog.contracts(on: topic))
        }
        operations.append(operation(channelID: deadLetterChannelID, producers: ["every consumer"], messages: messages))

        let document = YAMLNode.map([
            ("asyncapi", .scalar("3.0.0")),
            ("info", .map([
                ("title", .scalar("OrderFlow messaging")),
                ("version", .scalar("1.0.0")),
                ("description", .scalar(infoDescription)),
            ])),
            ("defaultContentType", .scalar(CloudEvent.jsonContentType)),
            ("channels", .map(channels)),
            ("operations", .map(operations)),
            ("components", .map([
                ("messages", .map(messages.map { (messageID($0), component($0)) })),
            ])),
        ])
        return "# Generated from Shared/Contracts by `make contracts`. Do not edit by hand.\n" + document.rendered()
    }

    /// The channel id of the dead-letter channel.
    static let deadLetterChannelID = "deadLetters"

    static let infoDescription = "Every Kafka topic and message of OrderFlow. Messages are CloudEvents 1.0 in Kafka "
        + "binary mode: the event attributes travel as ce_* Kafka headers (plus content-type, correlation_id, "
        + "causation_id, traceparent and tracestate) and the record value is the JSON payload with snake_case keys. "
        + "The record key is the aggregate id, also sent as ce_subject; everything in an order's saga is keyed by the "
        + "order id, so one saga's messages stay in order. Consumers ignore unknown fields and send unknown types to "
        + "their dead-letter topic. A breaking change is a new .vN message type."

    /// `orderflow.orders.saga_replies` → `ordersSagaReplies`.
    static func channelID(_ topic: Topic) -> String {
        let name = topic.rawValue.hasPrefix("orderflow.") ? String(topic.rawValue.dropFirst("orderflow.".count)) : topic.rawValue
        let words = name.split { $0 == "." || $0 == "_" }.map(String.init)
        return words.enumerated().map { index, word in index == 0 ? word : word.prefix(1).uppercased() + word.dropFirst() }.joined()
    }

    /// The component key of a message: its Swift type name.
    static func messageID(_ message: any MessageContract.Type) -> String {
        String(describing: message)
    }

    /// Who sends a message: the saga orchestrator (orders) sends commands; events and replies
    /// come from the service named in their type.
    static func producer(of message: any MessageContract.Type) -> String {
        switch message.kind {
        case .command:
            return "orders"
        case .event, .reply:
            let parts = message.ceType.split(separator: ".")
            return parts.count > 1 ? String(parts[1]) : "unknown"
        }
    }

    static func producers(of messages: [any MessageContract.Type]) -> [String] {
        Set(messages.map(producer(of:))).sorted()
    }

    private static func references(_ messages: [any MessageContract.Type]) -> YAMLNode {
        .map(messages.map { message in
            (messageID(message), .map([("$ref", .scalar("#/components/messages/\(messageID(message))"))]))
        })
    }

    private static func channel(_ topic: Topic, messages: [any MessageContract.Type]) -> YAMLNode {
        .map([
            ("address", .scalar(topic.rawValue)),
            ("description", .scalar(topicDescription(topic))),
            ("messages", references(messages)),
        ])
    }

    private static func deadLetterChannel(messages: [any MessageContract.Type]) -> YAMLNode {
        .map([
            ("address", .scalar(Topic.deadLetterPattern)),
            ("description", .scalar(
                "One dead-letter topic per consumer. A message that can never be processed (undecodable, unknown type, "
                    + "permanent domain error) is copied here with its original headers and value, plus headers naming "
                    + "the error and the original topic, partition and offset (see Shared/Outbox)."
            )),
            ("parameters", .map([
                ("consumer", .map([("description", .scalar("The consumer group's service name, for example payments."))])),
            ])),
            ("messages", references(messages)),
        ])
    }

    private static func operation(channelID: String, producers: [String], messages: [any MessageContract.Type]) -> (String, YAMLNode) {
        let id = "send" + channelID.prefix(1).uppercased() + channelID.dropFirst()
        return (id, .map([
            ("action", .scalar("send")),
            ("channel", .map([("$ref", .scalar("#/channels/\(channelID)"))])),
            ("summary", .scalar("Sent by \(producers.joined(separator: ", ")).")),
            ("messages", .list(messages.map { message in
                .map([("$ref", .scalar("#/channels/\(channelID)/messages/\(messageID(message))"))])
            })),
        ]))
    }

    private static func topicDescription(_ topic: Topic) -> String {
        switch topic {
        case .usersEvents: "Events about users, published by users."
        case .usersCommands: "Commands from the saga orchestrator (orders) to users."
        case .ordersEvents: "Events about orders, published by orders."
        case .sagaReplies: "Participants' replies to saga commands, consumed by the orchestrator (orders)."
        case .paymentsEvents: "Events about payments, published by payments."
        case .paymentsCommands: "Commands from the saga orchestrator (orders) to payments."
        default: "Messages on \(topic.rawValue)."
        }
    }
}
