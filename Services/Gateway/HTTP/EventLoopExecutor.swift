import NIOCore

/// A Swift concurrency task executor that runs jobs on one NIO event loop (SE-0417).
///
/// With `GATEWAY_EVENT_LOOP_AFFINITY=on` the gateway serves each connection with this executor
/// preferred (``EventLoopPinnedChannel``), on the event loop of the client's connection.
/// async-http-client then picks that same loop for the upstream request (`EventLoopGroup.any()`
/// returns the current loop) and prefers a pooled connection on it, and the Redis client uses its
/// connection on that loop, so replies resume the handler on the thread that read them — instead
/// of waking a cooperative-pool thread for every step of every request. Jobs must not block.
final class EventLoopExecutor: TaskExecutor {
    let eventLoop: any EventLoop

    init(_ eventLoop: any EventLoop) {
        self.eventLoop = eventLoop
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        eventLoop.execute { job.runSynchronously(on: self.asUnownedTaskExecutor()) }
    }
}
