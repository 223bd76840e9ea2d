#!/usr/bin/env python3
"""An open-loop HTTP/1.1 load generator: a fixed request rate, latency without coordinated omission.

usage: fixed_rate.py URL --rate R --seconds S [--connections N] [--header 'Name: value']...
                     [--processes P] [--drain-seconds D]

Request i is *scheduled* at start + i/R whatever happened to the earlier ones, and its latency is
measured from that scheduled time to the last byte of its answer. A slow answer therefore counts
for every request that had to wait behind it (the schedule does not stall the way a closed loop
such as wrk's does — "coordinated omission"). Requests go over N keep-alive connections, one
outstanding request per connection (no pipelining); a request due while every connection is busy
waits in a backlog, and that wait is part of its latency. Give enough connections for
rate × latency.

Stdlib only (asyncio protocols over raw sockets). One process does several thousand requests per
second; --processes P splits rate and connections over P processes and merges the latencies.
On Linux `make bench-gateway` uses its C twin, fixed_rate.c (same command line and RESULT line):
against nginx serving a static file at 1280 req/s this one measured p50 0.58 ms and p99 1.2 ms
where the C one measured 0.05 and 0.12-0.15 ms (asyncio's timers make it ~1 ms late at p99), at
about twice the CPU. It stays for other systems and for BENCH_LOAD_GENERATOR=python.

Prints one line on stdout:
  RESULT rate=… achieved=… sent=… completed=… p50_ms=… p90_ms=… p99_ms=… p999_ms=… max_ms=… non2xx=… errors=… max_backlog=… send_lag_p99_ms=…
achieved = completed answers / S. errors = connection failures, malformed answers and requests
still unanswered D seconds after the schedule ends. send_lag = how late the generator itself
wrote requests (on the wire later than scheduled, with a free connection waiting): when it is
large the generator, not the server, is the bottleneck, and the figures overstate latency.
"""
import argparse, asyncio, collections, multiprocessing, sys, time, urllib.parse


def percentile(sorted_values, permille):
    """Nearest-rank percentile of an ascending list; `permille` is the rank in thousandths (990
    for p99), so the rank is exact integer arithmetic, as in fixed_rate.c."""
    if not sorted_values:
        return 0.0
    k = min(len(sorted_values) - 1, max(0, -(-permille * len(sorted_values) // 1000) - 1))
    return sorted_values[k]


class Connection(asyncio.Protocol):
    """One keep-alive connection; answers are parsed just enough to find where they end."""

    def __init__(self, run):
        self.run = run
        self.transport = None
        self.buffer = bytearray()
        self.inflight = None        # scheduled time of the outstanding request
        self.expect = None          # bytes of body still to read, or "chunked"
        self.status = 0
        self.closed = asyncio.get_running_loop().create_future()

    def connection_made(self, transport):
        self.transport = transport

    def send(self, scheduled):
        self.inflight = scheduled
        self.transport.write(self.run.request_bytes)

    def data_received(self, data):
        self.buffer += data
        while self.inflight is not None:
            if self.expect is None:
                end = self.buffer.find(b"\r\n\r\n")
                if end < 0:
                    return
                head = bytes(self.buffer[:end]).lower()
                del self.buffer[:end + 4]
                try:
                    self.status = int(head[9:12])
                except ValueError:
                    self.fail()
                    return
                if b"transfer-encoding: chunked" in head:
                    self.expect = "chunked"
                else:
                    i = head.find(b"content-length:")
                    if i >= 0:
                        j = head.find(b"\r\n", i)
                        self.expect = int(head[i + 15:j if j >= 0 else len(head)].strip())
                    else:
                        self.expect = 0
                self.keep_alive = b"connection: close" not in head and (
                    not head.startswith(b"http/1.0") or b"connection: keep-alive" in head)
            if self.expect == "chunked":
                # Skip chunks until the zero-size one and its trailing CRLF.
                while True:
                    line_end = self.buffer.find(b"\r\n")
                    if line_end < 0:
                        return
                    size = int(bytes(self.buffer[:line_end]).split(b";")[0], 16)
                    if size == 0:
                        trailer_end = self.buffer.find(b"\r\n\r\n")
                        if trailer_end < 0:
                            return
                        del self.buffer[:trailer_end + 4]
                        break
                    if len(self.buffer) < line_end + 2 + size + 2:
                        return
                    del self.buffer[:line_end + 2 + size + 2]
            else:
                if len(self.buffer) < self.expect:
                    return
                del self.buffer[:self.expect]
            scheduled, self.inflight, self.expect = self.inflight, None, None
            # A connection the server is closing takes no further request; its replacement does.
            self.run.answered(self, scheduled, self.status, reuse=self.keep_alive)
            if not self.keep_alive:
                self.transport.close()
                return

    def fail(self):
        if self.inflight is not None:
            self.run.failed(self.inflight)
            self.inflight = None
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc):
        if self.inflight is not None:
            self.run.failed(self.inflight)
            self.inflight = None
        if not self.closed.done():
            self.closed.set_result(None)
        self.run.lost(self)


class Run:
    def __init__(self, url, rate, seconds, connections, headers, drain):
        self.url = urllib.parse.urlsplit(url)
        self.host = self.url.hostname
        self.port = self.url.port or 80
        path = self.url.path or "/"
        if self.url.query:
            path += "?" + self.url.query
        lines = [f"GET {path} HTTP/1.1", f"Host: {self.url.netloc}"] + headers + ["", ""]
        self.request_bytes = "\r\n".join(lines).encode()
        self.rate, self.seconds, self.connections, self.drain = rate, seconds, connections, drain
        self.idle = collections.deque()
        self.backlog = collections.deque()
        self.latencies = []
        self.send_lags = []
        self.non2xx = 0
        self.connect_errors = 0
        self.request_errors = 0
        self.sent = 0
        self.max_backlog = 0
        self.stopping = False

    async def connect(self):
        loop = asyncio.get_running_loop()
        try:
            _, protocol = await loop.create_connection(lambda: Connection(self), self.host, self.port)
        except OSError:
            self.connect_errors += 1
            return None
        return protocol

    def lost(self, connection):
        try:
            self.idle.remove(connection)
        except ValueError:
            pass
        if not self.stopping:
            asyncio.ensure_future(self.replace())

    async def replace(self):
        await asyncio.sleep(0.01)
        connection = await self.connect()
        if connection is not None and not self.stopping:
            self.connections_now.append(connection)
            self.release(connection)

    def release(self, connection):
        if self.backlog:
            self.dispatch(connection, self.backlog.popleft(), waited=True)
        else:
            self.idle.append(connection)

    def dispatch(self, connection, scheduled, waited=False):
        if not waited:  # a backlogged request was late for want of a connection, not of the generator
            self.send_lags.append(time.monotonic() - scheduled)
        self.sent += 1
        connection.send(scheduled)

    def answered(self, connection, scheduled, status, reuse):
        self.latencies.append(time.monotonic() - scheduled)
        if status < 200 or status > 299:
            self.non2xx += 1
        if reuse:
            self.release(connection)

    def failed(self, scheduled):
        self.request_errors += 1

    async def main(self, start_at):
        conns = await asyncio.gather(*(self.connect() for _ in range(self.connections)))
        self.connections_now = [c for c in conns if c is not None]
        if not self.connections_now:
            raise SystemExit(f"fixed_rate.py: cannot connect to {self.host}:{self.port}")
        self.idle.extend(self.connections_now)
        loop_sleep = asyncio.sleep
        now = time.monotonic()
        if start_at > now:
            await loop_sleep(start_at - now)
        start = time.monotonic()
        total = int(self.rate * self.seconds)
        interval = 1.0 / self.rate
        issued = 0
        while issued < total:
            now = time.monotonic()
            due = min(total, int((now - start) / interval) + 1)
            while issued < due:
                scheduled = start + issued * interval
                issued += 1
                if self.idle:
                    self.dispatch(self.idle.popleft(), scheduled)
                else:
                    self.backlog.append(scheduled)
            if len(self.backlog) > self.max_backlog:
                self.max_backlog = len(self.backlog)
            next_due = start + issued * interval
            await loop_sleep(max(0.0, min(next_due - time.monotonic(), 0.005)))
        # Drain: wait for every answer, at most `drain` seconds.
        deadline = time.monotonic() + self.drain
        while len(self.latencies) + self.request_errors < total and time.monotonic() < deadline:
            await loop_sleep(0.01)
        self.stopping = True
        self.unanswered = max(0, total - len(self.latencies) - self.request_errors)
        for c in self.connections_now:
            if c.transport is not None:
                c.inflight = None
                c.transport.close()
        await loop_sleep(0)
        return total


def measure(args, rate, connections, start_at):
    run = Run(args.url, rate, args.seconds, connections, args.header, args.drain_seconds)
    total = asyncio.run(run.main(start_at))
    return {"total": total, "sent": run.sent, "latencies": run.latencies, "send_lags": run.send_lags, "non2xx": run.non2xx,
            "errors": run.connect_errors + run.request_errors + run.unanswered, "max_backlog": run.max_backlog}


def worker(args, rate, connections, start_at, out):
    out.put(measure(args, rate, connections, start_at))


def main():
    p = argparse.ArgumentParser(description="Open-loop fixed-rate HTTP/1.1 GET load (latency from the scheduled send time).")
    p.add_argument("url")
    p.add_argument("--rate", type=float, required=True, help="requests per second")
    p.add_argument("--seconds", type=float, required=True)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--header", action="append", default=[], help="'Name: value', repeatable")
    p.add_argument("--processes", type=int, default=1)
    p.add_argument("--drain-seconds", type=float, default=10.0)
    args = p.parse_args()
    if args.rate <= 0 or args.seconds <= 0:
        p.error("--rate and --seconds must be positive")
    procs = max(1, min(args.processes, args.connections))
    start_at = time.monotonic() + 0.3 + 0.2 * procs  # time for every process to connect
    if procs == 1:
        results = [measure(args, args.rate, args.connections, start_at)]
    else:
        out = multiprocessing.Queue()
        workers = []
        for i in range(procs):
            conns = args.connections // procs + (1 if i < args.connections % procs else 0)
            w = multiprocessing.Process(target=worker, args=(args, args.rate / procs, conns, start_at, out))
            w.start()
            workers.append(w)
        results = [out.get() for _ in workers]
        for w in workers:
            w.join()
    latencies = sorted(x for r in results for x in r["latencies"])
    lags = sorted(x for r in results for x in r["send_lags"])
    ms = lambda v: v * 1000.0
    print("RESULT rate=%.1f achieved=%.1f sent=%d completed=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
          "non2xx=%d errors=%d max_backlog=%d send_lag_p99_ms=%.3f" % (
              args.rate, len(latencies) / args.seconds, sum(r["sent"] for r in results), len(latencies),
              ms(percentile(latencies, 500)), ms(percentile(latencies, 900)), ms(percentile(latencies, 990)),
              ms(percentile(latencies, 999)), ms(latencies[-1] if latencies else 0.0),
              sum(r["non2xx"] for r in results), sum(r["errors"] for r in results),
              max(r["max_backlog"] for r in results), ms(percentile(lags, 990))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
