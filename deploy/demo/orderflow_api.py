"""What the demo (`demo.py`) and the saga consoles (`sagas.py`, `sagas_web.py`) share: finding a
running system, calling the gateway as a user, and printing tables and saga timelines. Python's
standard library only."""
import http.client, json, os, re, threading, time, urllib.parse
from datetime import datetime, timedelta, timezone

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# Where each saga step runs (Services/Orders/Sagas/OrderSagas.swift).
PARTICIPANT = {
    "reserve_stock": "orders", "release_stock": "orders", "approve_order": "orders", "mark_cancelled": "orders",
    "validate_customer": "users", "authorize_payment": "payments", "void_payment": "payments", "refund_payment": "payments",
}
# Timeline entry kinds (Shared/Sagas/SagaEvents.swift) as (action, outcome) columns.
KIND = {
    "started": ("saga started", ""), "command_sent": ("send command", ""), "local_run": ("run locally", ""),
    "step_succeeded": ("", "succeeded"), "step_failed": ("", "FAILED"), "timed_out": ("", "timed out"),
    "retried": ("resend command", ""), "compensation_sent": ("compensate", ""), "compensated": ("", "compensated"),
    "finished": ("saga finished", ""), "ignored": ("", "ignored"),
}


class ApiFailure(Exception):
    """The system answered something unexpected, or could not be reached."""


class Unreachable(ApiFailure):
    """The gateway did not answer at all."""


def read_env(path):
    values = {}
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line and not line.startswith("#") and "=" in line:
                key, value = line.split("=", 1)
                values[key.strip()] = value.strip().strip('"').strip("'")
    return values


def add_system_arguments(parser):
    """--stack-dir and --gateway, which `running_system` reads."""
    parser.add_argument("--stack-dir", default=os.environ.get("STACK_DIR") or os.path.join(ROOT, ".run", "stack"))
    parser.add_argument("--gateway", default=os.environ.get("DEMO_GATEWAY"), help="gateway URL (default: GATEWAY_URL of services.env)")


def running_system(stack_dir, gateway=None):
    """(gateway URL, admin email, admin password) of the system `make run` started in `stack_dir`.

    The gateway URL comes from `gateway` or `stack_dir/services.env`; the admin's credentials from
    `stack_dir/stack.env`, else the environment (ORDERFLOW_ADMIN_EMAIL / ORDERFLOW_ADMIN_PASSWORD).
    Raises ApiFailure naming what is missing."""
    services_env = os.path.join(stack_dir, "services.env")
    stack_env = os.path.join(stack_dir, "stack.env")
    stack = read_env(stack_env) if os.path.exists(stack_env) else {}
    if not gateway:
        if not os.path.exists(services_env):
            raise ApiFailure(f"no running system in {stack_dir} (services.env missing): start it with `make run` first")
        gateway = read_env(services_env).get("GATEWAY_URL", "")
        if not gateway:
            raise ApiFailure(f"{services_env} names no GATEWAY_URL")
    email = stack.get("ORDERFLOW_ADMIN_EMAIL") or os.environ.get("ORDERFLOW_ADMIN_EMAIL")
    password = stack.get("ORDERFLOW_ADMIN_PASSWORD") or os.environ.get("ORDERFLOW_ADMIN_PASSWORD")
    if not email or not password:
        raise ApiFailure(f"no admin credentials: set ORDERFLOW_ADMIN_EMAIL / ORDERFLOW_ADMIN_PASSWORD or start the system "
                         f"with `make run` ({stack_env} holds them)")
    return gateway.rstrip("/"), email, password


def parse_time(text):
    """The services' ISO 8601 timestamps ('2026-01-02T03:04:05.678Z' or with a +0000 offset)."""
    m = re.match(r"(\d{4})-(\d\d)-(\d\d)T(\d\d):(\d\d):(\d\d)(?:\.(\d+))?(Z|[+-]\d\d:?\d\d)?$", text or "")
    if not m:
        return None
    y, mo, d, h, mi, s = (int(m.group(i)) for i in range(1, 7))
    micro = int((m.group(7) or "0")[:6].ljust(6, "0"))
    when = datetime(y, mo, d, h, mi, s, micro, tzinfo=timezone.utc)
    zone = m.group(8)
    if zone and zone != "Z":
        digits = zone[1:].replace(":", "")
        offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
        when = when - offset if zone[0] == "+" else when + offset
    return when


def answer_detail(parsed):
    """What an error answer says: a problem's detail or title and its field errors, else the body."""
    if not isinstance(parsed, dict):
        return parsed
    text = parsed.get("detail") or parsed.get("title")
    fields = [f"{error.get('field') or 'body'}: {error.get('message')}" for error in parsed.get("errors") or []
              if isinstance(error, dict)]
    return f"{text} ({'; '.join(fields)})" if fields else text


def rejection(order):
    """' (reason: detail)' for a rejected order, else ''."""
    if not order.get("rejection_reason"):
        return ""
    detail = f": {order['rejection_detail']}" if order.get("rejection_detail") else ""
    return f" ({order['rejection_reason']}{detail})"


def money(m):
    if not isinstance(m, dict):
        return "?"
    return f"{m.get('amount_minor', 0) / 100:,.2f} {m.get('currency', '')}"


def table(headers, rows, indent="  "):
    """The rows as aligned text columns under `headers`, one string with a newline per line."""
    widths = [len(h) for h in headers]
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], len(str(cell)))
    line = lambda cells: indent + "  ".join(str(c).ljust(w) for c, w in zip(cells, widths)).rstrip()
    lines = [line(headers), indent + "  ".join("-" * w for w in widths)] + [line(row) for row in rows]
    return "\n".join(lines) + "\n"


def timeline_rows(saga):
    """(+ms since the saga started, step, action / command, outcome, detail) per timeline entry."""
    start = parse_time(saga.get("created_at"))
    rows = []
    for step in saga.get("steps", []):
        at = parse_time(step.get("at"))
        offset = f"{(at - start).total_seconds() * 1000:8.1f}" if at and start else "       ?"
        name = step.get("step") or ""
        action, outcome = KIND.get(step.get("kind"), (step.get("kind"), ""))
        if action in ("send command", "resend command", "compensate") and name:
            if PARTICIPANT.get(name) == "orders":  # a local step: no command leaves orders
                action = {"compensate": "compensate locally"}.get(action, "run locally")
            else:
                action = f"{action} → {PARTICIPANT.get(name, '?')}"
        if step.get("attempt") and step.get("attempt") > 1:
            action = f"{action} (attempt {step['attempt']})"
        rows.append((offset, name, action, outcome, step.get("detail") or ""))
    return rows


def took_ms(saga):
    """Milliseconds from the saga's start to its end; None while it runs."""
    start = parse_time(saga.get("created_at"))
    end = parse_time(saga.get("finished_at")) if saga.get("finished_at") else None
    return (end - start).total_seconds() * 1000 if start and end else None


def timeline(saga, title="saga timeline"):
    """One saga of `GET /api/v1/orders/{id}/saga` as a heading and a table of its steps."""
    took = took_ms(saga)
    took = f", {took:.0f} ms" if took is not None else ""
    heading = f"\n  {title}: saga {saga.get('type')} {saga.get('id')} — {saga.get('phase')}{took}\n"
    return heading + table(("+ms", "step", "action / command", "outcome", "detail"), timeline_rows(saga), indent="    ")


class Session:
    """Calls through the gateway as one user: logs in on first use, and again when the token is
    refused (expired). Safe to share between threads; only the login is locked, not the calls."""

    def __init__(self, gateway, email, password):
        self.gw = gateway
        self.email, self.password = email, password
        self.token = None
        self.lock = threading.Lock()

    def call(self, method, path, body=None, key=None):
        """(status, parsed body)."""
        refused = None
        for _ in range(2):
            with self.lock:
                if self.token is None or self.token == refused:
                    tokens, _ = self.gw.ok(200, "POST", "/api/v1/auth/tokens", {"email": self.email, "password": self.password})
                    self.token = tokens["access_token"]
                token = self.token
            status, parsed, _ = self.gw.call(method, path, body, token=token, key=key)
            if status != 401:
                return status, parsed
            refused = token
        raise ApiFailure(f"{method} {path}: {self.email}'s fresh token was refused")

    def get(self, path):
        """The body of a GET; ApiFailure unless it answers 200."""
        status, body = self.call("GET", path)
        if status != 200:
            raise ApiFailure(f"GET {path} answered {status}: {answer_detail(body)}")
        return body


class Gateway:
    def __init__(self, base):
        self.url = urllib.parse.urlparse(base)
        self.base = base

    def call(self, method, path, body=None, token=None, key=None):
        """(status, parsed body, headers); retries 429 after Retry-After, at most ~30 s."""
        headers = {"accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["content-type"] = "application/json"
        if token:
            headers["authorization"] = f"Bearer {token}"
        if key:
            headers["idempotency-key"] = key
        deadline = time.time() + 30
        while True:
            conn = http.client.HTTPConnection(self.url.hostname, self.url.port or 80, timeout=30)
            try:
                conn.request(method, path, body=data, headers=headers)
                r = conn.getresponse()
                raw = r.read()
            except OSError as error:
                raise Unreachable(f"{method} {path}: cannot reach the gateway at {self.base} ({error})")
            finally:
                conn.close()
            if r.status == 429 and time.time() < deadline:
                time.sleep(min(5.0, float(r.getheader("retry-after") or 1)))
                continue
            try:
                parsed = json.loads(raw) if raw else None
            except ValueError:
                parsed = raw.decode(errors="replace")
            return r.status, parsed, {k.lower(): v for k, v in r.getheaders()}

    def ok(self, expected, method, path, body=None, token=None, key=None):
        status, parsed, headers = self.call(method, path, body, token, key)
        if status != expected:
            raise ApiFailure(f"{method} {path} answered {status}, expected {expected}: {answer_detail(parsed)}")
        return parsed, headers
