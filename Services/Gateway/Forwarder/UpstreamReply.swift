import HTTPTypes
import NIOCore

/// An upstream's answer as the event-loop proxy path receives it.
struct UpstreamReply: Sendable {
    /// The response head as the upstream sent it.
    var head: HTTPResponse
    /// Its body.
    var body: Body

    /// A small body arrives whole; anything else (no `Content-Length`, or over the whole-body
    /// limit: event streams, large lists) is relayed part by part as it arrives.
    enum Body: Sendable {
        case whole(ByteBuffer)
        case streaming(UpstreamBodyStream)
    }
}

/// The rest of a streamed upstream body, handed from the upstream connection to the client
/// connection. Both live on the same event loop, so parts cross without a hop; parts that
/// arrive before the client side attaches are buffered. All methods run on ``eventLoop``.
///
/// Backpressure: the client side reports its writability through ``wantsMore(_:)``, and the
/// upstream connection stops reading while the client cannot take more.
final class UpstreamBodyStream: Sendable {
    /// What happens next on the stream.
    enum Event {
        case body(ByteBuffer)
        case end
        /// The upstream broke off; the client connection must be closed (its response is cut).
        case failed
    }

    private struct State {
        var pending: [Event] = []
        var sink: ((Event) -> Void)?
        var cancel: (() -> Void)?
        var demand: (Bool) -> Void
        var done = false
    }

    let eventLoop: any EventLoop
    private let state: NIOLoopBoundBox<State>

    /// Creates the stream on `eventLoop`; `demand` starts and stops reading the upstream
    /// connection, `cancel` closes it when the client goes away before the end.
    init(eventLoop: any EventLoop, demand: @escaping (Bool) -> Void, cancel: @escaping () -> Void) {
        self.eventLoop = eventLoop
        self.state = NIOLoopBoundBox(State(cancel: cancel, demand: demand), eventLoop: eventLoop)
    }

    /// Called by the client connection when its writability changes.
    func wantsMore(_ wanted: Bool) {
        guard !state.value.done else { return }
        state.value.demand(wanted)
    }

    /// Called by the upstream connection for every part after the head.
    func deliver(_ event: Event) {
        guard !state.value.done else { return }
        switch event {
        case .end, .failed: state.value.done = true
        case .body: break
        }
        if let sink = state.value.sink {
            sink(event)
        } else {
            state.value.pending.append(event)
        }
    }

    /// Called by the client connection: every buffered part at once, then each as it arrives.
    func attach(_ sink: @escaping (Event) -> Void) {
        let pending = state.value.pending
        state.value.pending = []
        state.value.sink = sink
        for event in pending { sink(event) }
    }

    /// The client went away: stop relaying and drop the upstream connection.
    func cancel() {
        guard !state.value.done else { return }
        state.value.done = true
        state.value.sink = nil
        state.value.pending = []
        state.value.cancel?()
    }
}
