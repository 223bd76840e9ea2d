import NIOCore

/// A Swift concurrency task executor that runs jobs on one NIO event loop (SE-0417).
///
/// With `GATEWAY_EVENT_LOOP_AFFINITY=on` the gateway runs each request's middleware and handler
/// with this executor preferred, on the event loop of the client's connection. async-http-client then picks that same loop for the
/// upstream request (`EventLoopGroup.any()` returns the current loop) and prefers a pooled
/// connection on it, so the reply resumes the handler on the thread that read it — instead of
/// waking a cooperative-pool thread for every step of every request. Jobs must not block: the
/// gateway's blocking work (Redis over hiredis) runs on its own threads either way.
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
