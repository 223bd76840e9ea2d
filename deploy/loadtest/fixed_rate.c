/*
 * fixed_rate.c — the open-loop load generator of `make bench-gateway`, in C for Linux.
 *
 * Same command line and the same RESULT line as fixed_rate.py (its portable twin, which the
 * bench uses where this one cannot be built):
 *
 *   fixed_rate URL --rate R --seconds S [--connections N] [--header 'Name: value']...
 *              [--drain-seconds D] [--processes 1]
 *
 * URL is http://HOST[:PORT][/PATH], HOST a name or an IPv4 address (no IPv6 literals).
 *
 * Request i is scheduled at start + i/R whatever happened to the earlier ones, and its latency
 * runs from that scheduled time to the last byte of its answer, so a slow answer counts for every
 * request queued behind it (no coordinated omission). Requests go over N keep-alive connections,
 * one outstanding request per connection; a request due while every connection is busy waits in
 * a backlog, and that wait is part of its latency.
 *
 * Why C: on a small machine the generator shares the CPU with the system it measures, and its
 * own delays count in every latency. Against nginx serving a static file at 1280 req/s, the
 * Python twin measured p50 0.58 ms / p99 1.2 ms and was late by 1.1 ms at p99 (asyncio's
 * timers); this one measured 0.05 / 0.12–0.15 ms, late by 0.05–0.06 ms, at about half the CPU
 * (~40 µs per request, nearly all in the kernel's loopback TCP). It is single-threaded: one
 * epoll loop and a timerfd armed, to the nanosecond, for the next scheduled request. Free
 * connections are used in turn (first in, first out), as the Python does.
 *
 * Limit: a connection the server closes is replaced with a blocking connect() inside the loop;
 * on loopback that takes microseconds, but a connect the server's backlog makes wait would
 * delay the schedule (the Python reconnects in the background).
 *
 * RESULT fields: achieved = answers / S; errors = connection failures, malformed answers and
 * requests unanswered D seconds after the schedule ends; send_lag = how late a request went on
 * the wire although a connection was free (the generator's own lateness).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

enum { BODY_UNKNOWN = -2, BODY_CHUNKED = -1 };

typedef struct {
    int fd;
    int busy;               /* a request is outstanding */
    int64_t scheduled;      /* its scheduled time (ns) */
    char *buf;
    size_t len, cap;
    int status;
    long body;              /* bytes of body expected, BODY_CHUNKED, or BODY_UNKNOWN before the head */
    size_t head_len;
    int keep_alive;
} Conn;

static struct addrinfo *target;
static char *request;
static size_t request_len;
static Conn *conns;
static int nconns, epfd;
static int *idle;          /* ring of free connections, used first in, first out */
static int idle_head, nidle;
static int64_t *backlog;    /* ring of scheduled times */
static long backlog_head, backlog_len, backlog_cap, max_backlog;
static int64_t *latencies, *lags;
static long nlat, nlag, sent, non2xx, request_errors, connect_errors;

static int64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void die(const char *message) {
    fprintf(stderr, "fixed_rate: %s\n", message);
    exit(2);
}

static int connect_one(Conn *c) {
    int fd = -1;
    for (struct addrinfo *a = target; a; a = a->ai_next) {  /* every address, as Python's create_connection */
        fd = socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) continue;
        if (connect(fd, a->ai_addr, a->ai_addrlen) == 0) break;
        close(fd);
        fd = -1;
    }
    if (fd < 0) return -1;
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct epoll_event ev = { .events = EPOLLIN | EPOLLRDHUP, .data.ptr = c };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) != 0) { close(fd); return -1; }
    c->fd = fd;
    c->busy = 0;
    c->len = 0;  /* (send_on sets the rest per request) */
    return 0;
}

static void drop(Conn *c);

static void send_on(Conn *c, int64_t scheduled) {
    c->busy = 1;
    c->scheduled = scheduled;
    c->body = BODY_UNKNOWN;
    sent++;
    ssize_t n = send(c->fd, request, request_len, MSG_NOSIGNAL);
    if (n != (ssize_t)request_len) drop(c);  /* an idle keep-alive socket takes a few hundred bytes whole */
}

/* A connection became free: the oldest backlogged request goes out on it, or it waits idle. */
static void release(Conn *c) {
    if (backlog_len > 0) {
        int64_t scheduled = backlog[backlog_head];
        backlog_head = (backlog_head + 1) % backlog_cap;
        backlog_len--;
        send_on(c, scheduled);
    } else {
        idle[(idle_head + nidle) % nconns] = (int)(c - conns);
        nidle++;
    }
}

static Conn *take_idle(void) {
    Conn *c = &conns[idle[idle_head]];
    idle_head = (idle_head + 1) % nconns;
    nidle--;
    return c;
}

/* The connection closed or failed: its outstanding request counts as an error, and a new
 * connection takes its place. */
static void drop(Conn *c) {
    if (c->busy) request_errors++;
    for (int i = 0; i < nidle; i++) {  /* an idle connection the server closed leaves the ring */
        int at = (idle_head + i) % nconns;
        if (idle[at] != (int)(c - conns)) continue;
        for (int j = i; j < nidle - 1; j++) idle[(idle_head + j) % nconns] = idle[(idle_head + j + 1) % nconns];
        nidle--;
        break;
    }
    c->busy = 0;
    if (c->fd >= 0) {
        epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
        c->fd = -1;
    }
    if (connect_one(c) == 0) release(c); else connect_errors++;
}

/* Case-insensitive search for a header name at a line start within the head. */
static const char *header_value(const char *head, size_t head_len, const char *name) {
    size_t name_len = strlen(name);
    for (const char *p = head; p < head + head_len; ) {
        const char *line = p;
        const char *end = memmem(line, head + head_len - line, "\r\n", 2);
        if (!end) end = head + head_len;
        if ((size_t)(end - line) > name_len && strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
            const char *v = line + name_len + 1;
            while (v < end && (*v == ' ' || *v == '\t')) v++;
            return v;
        }
        p = end + 2;
    }
    return NULL;
}

/* The chunk size of a size line that ends at `end`: hexadecimal digits, then optional blanks
 * and a ';' extension (ignored); -1 for anything else. */
static long chunk_size(const char *line, const char *end) {
    long size = 0;
    int digits = 0;
    const char *p = line;
    for (; p < end; p++, digits++) {
        int v = (*p >= '0' && *p <= '9') ? *p - '0' : (*p >= 'a' && *p <= 'f') ? *p - 'a' + 10
              : (*p >= 'A' && *p <= 'F') ? *p - 'A' + 10 : -1;
        if (v < 0) break;
        if (size > (1L << 40)) return -1;  /* no answer here is that large */
        size = size * 16 + v;
    }
    while (p < end && (*p == ' ' || *p == '\t')) p++;
    if (digits == 0 || (p < end && *p != ';')) return -1;
    return size;
}

/* How many bytes of buf form a complete chunked body, or 0 while incomplete; -1 when malformed. */
static long chunked_length(const char *buf, size_t len) {
    size_t at = 0;
    for (;;) {
        const char *eol = memmem(buf + at, len - at, "\r\n", 2);
        if (!eol) return 0;
        long size = chunk_size(buf + at, eol);
        if (size < 0) return -1;
        at = (size_t)(eol - buf) + 2;
        if (size == 0) {  /* trailers, then an empty line */
            for (;;) {
                const char *line_end = memmem(buf + at, len - at, "\r\n", 2);
                if (!line_end) return 0;
                size_t line_len = (size_t)(line_end - (buf + at));
                at += line_len + 2;
                if (line_len == 0) return (long)at;
            }
        }
        if ((size_t)size + 2 > len - at) return 0;
        if (buf[at + (size_t)size] != '\r' || buf[at + (size_t)size + 1] != '\n') return -1;
        at += (size_t)size + 2;
    }
}

/* Completes the outstanding request if its whole answer is in the buffer: 1 if it did, 0 if
 * more bytes are needed, -1 if the answer is malformed. */
static int complete_answer(Conn *c) {
    if (c->body == BODY_UNKNOWN) {
        const char *end = memmem(c->buf, c->len, "\r\n\r\n", 4);
        if (!end) return 0;
        c->head_len = (size_t)(end - c->buf) + 4;
        if (c->head_len < 12 || strncmp(c->buf, "HTTP/1.", 7) != 0) return -1;
        if (c->buf[8] != ' ' || c->buf[9] < '1' || c->buf[9] > '5' || c->buf[10] < '0' || c->buf[10] > '9'
            || c->buf[11] < '0' || c->buf[11] > '9') return -1;
        c->status = (c->buf[9] - '0') * 100 + (c->buf[10] - '0') * 10 + (c->buf[11] - '0');
        const char *te = header_value(c->buf, c->head_len, "transfer-encoding");
        const char *cl = header_value(c->buf, c->head_len, "content-length");
        const char *connection = header_value(c->buf, c->head_len, "connection");
        c->keep_alive = !(connection && strncasecmp(connection, "close", 5) == 0)
            && (strncmp(c->buf, "HTTP/1.0", 8) != 0 || (connection && strncasecmp(connection, "keep-alive", 10) == 0));
        if (te && strncasecmp(te, "chunked", 7) == 0) {
            c->body = BODY_CHUNKED;
        } else if (cl) {
            if (*cl < '0' || *cl > '9') return -1;
            char *stop;
            long length = strtol(cl, &stop, 10);
            if (stop == cl || length < 0 || (*stop != '\r' && *stop != ' ' && *stop != '\t')) return -1;
            c->body = length;
        } else {
            c->body = 0;
        }
    }
    size_t total;
    if (c->body == BODY_CHUNKED) {
        long body = chunked_length(c->buf + c->head_len, c->len - c->head_len);
        if (body < 0) return -1;
        if (body == 0) return 0;
        total = c->head_len + (size_t)body;
    } else {
        total = c->head_len + (size_t)c->body;
        if (c->len < total) return 0;
    }
    latencies[nlat++] = now_ns() - c->scheduled;
    if (c->status < 200 || c->status > 299) non2xx++;
    c->busy = 0;
    memmove(c->buf, c->buf + total, c->len - total);
    c->len -= total;
    return 1;
}

/* Reads what arrived; completes the outstanding request when its whole answer is in, and puts
 * the connection back to work (or replaces it, when the server closed it). */
static void on_readable(Conn *c) {
    int closed = 0;
    for (;;) {
        if (c->cap - c->len < 4096) {
            c->cap = c->cap ? c->cap * 2 : 16384;
            c->buf = realloc(c->buf, c->cap);
            if (!c->buf) die("out of memory");
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
        if (n > 0) { c->len += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK)) closed = 1;
        break;
    }
    if (!c->busy) {  /* bytes nobody asked for, or an idle connection closing */
        c->len = 0;
        if (closed) drop(c);
        return;
    }
    int done = complete_answer(c);
    if (done < 0 || closed || (done == 1 && !c->keep_alive)) { drop(c); return; }
    if (done == 1) release(c);
}

static int cmp_i64(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Nearest-rank percentile of an ascending array, in ms; `permille` is the rank in thousandths
 * (990 for p99), so the rank is exact integer arithmetic: ceil(permille × n / 1000). */
static double pct_ms(const int64_t *v, long n, long permille) {
    if (n == 0) return 0.0;
    long k = (permille * n + 999) / 1000 - 1;
    if (k < 0) k = 0;
    if (k > n - 1) k = n - 1;
    return v[k] / 1e6;
}

int main(int argc, char **argv) {
    const char *url = NULL;
    double rate = 0, seconds = 0, drain = 10;
    int connections = 64;
    char *headers = calloc(1, 1);
    if (!headers) die("out of memory");
    size_t headers_len = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--rate") && v) { rate = atof(v); i++; }
        else if (!strcmp(a, "--seconds") && v) { seconds = atof(v); i++; }
        else if (!strcmp(a, "--connections") && v) { connections = atoi(v); i++; }
        else if (!strcmp(a, "--drain-seconds") && v) { drain = atof(v); i++; }
        else if (!strcmp(a, "--processes") && v) {  /* the Python twin's; one thread does it all here */
            if (atoi(v) != 1) fprintf(stderr, "fixed_rate: --processes %s ignored: one process suffices\n", v);
            i++;
        }
        else if (!strcmp(a, "--header") && v) {
            size_t l = strlen(v);
            headers = realloc(headers, headers_len + l + 3);
            if (!headers) die("out of memory");
            memcpy(headers + headers_len, v, l);
            memcpy(headers + headers_len + l, "\r\n", 3);
            headers_len += l + 2;
            i++;
        } else if (a[0] != '-' && !url) url = a;
        else die("usage: fixed_rate URL --rate R --seconds S [--connections N] [--header 'Name: value']... [--drain-seconds D]");
    }
    if (!url || rate <= 0 || seconds <= 0 || connections < 1 || drain < 0) die("URL, a positive --rate and --seconds are required");
    if (drain > 3600 || seconds > 86400 || rate > 1e7) die("--drain-seconds, --seconds or --rate out of range");
    if (strncmp(url, "http://", 7) != 0) die("only http:// URLs");
    const char *authority = url + 7;
    const char *slash = strchr(authority, '/');
    char host[300], port[16] = "80", hostport[300];
    size_t auth_len = slash ? (size_t)(slash - authority) : strlen(authority);
    if (auth_len == 0 || auth_len >= sizeof hostport) die("bad URL authority");
    memcpy(hostport, authority, auth_len);
    hostport[auth_len] = 0;
    char *colon = strrchr(hostport, ':');
    if (colon) {
        snprintf(port, sizeof port, "%s", colon + 1);
        *colon = 0;
    }
    snprintf(host, sizeof host, "%s", hostport);
    char *path = strdup(slash ? slash : "/");
    if (!path) die("out of memory");
    char *fragment = strchr(path, '#');  /* never sent */
    if (fragment) *fragment = 0;
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
    if (strchr(host, '[') || strchr(host, ']')) die("IPv6 literals are not supported; use a name or an IPv4 address");
    if (getaddrinfo(host, port, &hints, &target) != 0) die("cannot resolve the URL's host");
    request_len = (size_t)snprintf(NULL, 0, "GET %s HTTP/1.1\r\nHost: %.*s\r\n%s\r\n", path, (int)auth_len, authority, headers);
    request = malloc(request_len + 1);
    if (!request) die("out of memory");
    snprintf(request, request_len + 1, "GET %s HTTP/1.1\r\nHost: %.*s\r\n%s\r\n", path, (int)auth_len, authority, headers);

    long total = (long)(rate * seconds);
    if (total < 1) die("--rate × --seconds must be at least 1");
    latencies = malloc(sizeof(int64_t) * (size_t)total);
    lags = malloc(sizeof(int64_t) * (size_t)total);
    backlog_cap = total;
    backlog = malloc(sizeof(int64_t) * (size_t)backlog_cap);
    conns = calloc((size_t)connections, sizeof(Conn));
    idle = malloc(sizeof(int) * (size_t)connections);
    if (!latencies || !lags || !backlog || !conns || !idle) die("out of memory");
    epfd = epoll_create1(EPOLL_CLOEXEC);
    int tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (epfd < 0 || tfd < 0) die("epoll/timerfd unavailable");
    struct epoll_event tev = { .events = EPOLLIN, .data.ptr = NULL };
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, tfd, &tev) != 0) die("epoll_ctl failed");
    nconns = connections;
    for (int i = 0; i < connections; i++) {
        conns[i].fd = -1;
        if (connect_one(&conns[i]) == 0) idle[nidle++] = i; else connect_errors++;
    }
    if (nidle == 0) { fprintf(stderr, "fixed_rate: cannot connect to %s:%s\n", host, port); return 1; }

    const double interval = 1e9 / rate;
    const int64_t start = now_ns() + 300000000LL;  /* connections settle first */
    long issued = 0;
    int64_t drain_deadline = 0;
    struct epoll_event events[256];
    for (;;) {
        int64_t now = now_ns();
        /* Everything due by now: out on a free connection, or into the backlog. */
        while (issued < total) {
            int64_t scheduled = start + (int64_t)(issued * interval);
            if (scheduled > now) break;
            issued++;
            if (nidle > 0) {
                Conn *c = take_idle();
                lags[nlag++] = now - scheduled;
                send_on(c, scheduled);
            } else {
                backlog[(backlog_head + backlog_len) % backlog_cap] = scheduled;
                backlog_len++;
                if (backlog_len > max_backlog) max_backlog = backlog_len;
            }
        }
        if (issued == total) {
            if (drain_deadline == 0) drain_deadline = now + (int64_t)(drain * 1e9);
            if (nlat + request_errors >= total || now >= drain_deadline) break;
        }
        struct itimerspec when = {0};
        int64_t next = issued < total ? start + (int64_t)(issued * interval) : drain_deadline;
        when.it_value.tv_sec = next / 1000000000LL;
        when.it_value.tv_nsec = next % 1000000000LL;
        timerfd_settime(tfd, TFD_TIMER_ABSTIME, &when, NULL);
        int n = epoll_wait(epfd, events, 256, -1);
        if (n < 0 && errno != EINTR) die("epoll_wait failed");
        for (int i = 0; i < n; i++) {
            if (events[i].data.ptr == NULL) {
                uint64_t expirations;
                ssize_t r = read(tfd, &expirations, sizeof expirations);
                (void)r;
                continue;
            }
            Conn *c = events[i].data.ptr;
            if (c->fd < 0) continue;
            if (events[i].events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) on_readable(c);
        }
    }
    long unanswered = total - nlat - request_errors;
    if (unanswered < 0) unanswered = 0;
    for (int i = 0; i < nconns; i++) if (conns[i].fd >= 0) close(conns[i].fd);
    qsort(latencies, (size_t)nlat, sizeof(int64_t), cmp_i64);
    qsort(lags, (size_t)nlag, sizeof(int64_t), cmp_i64);
    printf("RESULT rate=%.1f achieved=%.1f sent=%ld completed=%ld p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f p999_ms=%.3f max_ms=%.3f "
           "non2xx=%ld errors=%ld max_backlog=%ld send_lag_p99_ms=%.3f\n",
           rate, nlat / seconds, sent, nlat, pct_ms(latencies, nlat, 500), pct_ms(latencies, nlat, 900), pct_ms(latencies, nlat, 990),
           pct_ms(latencies, nlat, 999), nlat ? latencies[nlat - 1] / 1e6 : 0.0, non2xx, connect_errors + request_errors + unanswered, max_backlog,
           pct_ms(lags, nlag, 990));
    return 0;
}
