/// What a message means to its receivers.
public enum MessageKind: String, Sendable, CaseIterable {
    /// A fact that happened, published on `orderflow.<service>.events` for anyone to react to.
    case event
    /// A request for one participant to act, sent by the saga orchestrator on
    /// `orderflow.<service>.commands`.
    case command
    /// A participant's answer to a command, sent on ``Topic/sagaReplies``.
    case reply
}
