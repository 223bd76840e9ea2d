import NIOPosix

/// Runs a blocking librdkafka call on NIO's blocking pool even when the calling task is
/// cancelled. Cleanup calls (`rd_kafka_flush` on close, `rd_kafka_destroy`) must not be skipped:
/// a handle that is never destroyed keeps librdkafka's threads calling back into Swift objects
/// that are already gone.
func runBlockingUncancellable<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await Task.detached {
        try await NIOThreadPool.singleton.runIfActive(body)
    }.value
}
