"""`make sagas-web`: the saga console in a browser, served on 127.0.0.1 (Python's standard library only).

usage: sagas.py --web [--port N] [--stack-dir DIR] [--gateway URL] [--limit N]

Pages (every one reads the system through the gateway, as `make sagas` does):
  /              the newest orders of every customer, a row per saga with its steps (✔ done, ✘ failed,
                 ↺ compensated, ⚠ compensation failed, ⏱ timed out, ↻ retrying, … running); refreshed
                 every 2 s while the tab is visible; `?status=rejected&limit=50` filters
  /orders/{id}   one order: each saga's steps, a time bar and its timeline, refreshed until they finish
  /lab           payments' injected faults (replaced as the admin), and orders placed, paid and cancelled
                 as the lab's own customer: set a decline rate of 1, place an order, watch it compensate

Safety: it listens on 127.0.0.1 only and acts as the admin. It prints its address with a key;
opening that address once sets a cookie (HttpOnly, SameSite=Strict) without which it answers
nothing but 401, so other local users and other sites' pages cannot use it (a cross-site request
carries no such cookie). It also answers only requests addressed to 127.0.0.1 or localhost (a
DNS-rebinding page cannot use it), changes nothing without its per-process form token, and its
Content-Security-Policy allows no inline script.
"""
import hmac, http.cookies, http.server, os, re, secrets, signal, sys, threading, time, urllib.parse, uuid
from decimal import Decimal, InvalidOperation

import sagas_html as pages
from orderflow_api import ApiFailure, Session, Unreachable, answer_detail

STATIC = {  # the only files served, with their types
    "/static/console.css": ("web/console.css", "text/css; charset=utf-8"),
    "/static/console.js": ("web/console.js", "text/javascript; charset=utf-8"),
}
HERE = os.path.dirname(os.path.abspath(__file__))
MAX_FORM_BYTES = 4096
COOKIE = "orderflow_sagas"
ORDER_PATH = re.compile(r"/orders/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")
CANCEL_PATH = re.compile(ORDER_PATH.pattern + "/cancel")
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
                               "img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


class Refused(Exception):
    """A request this console will not serve: (HTTP status, message)."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class Lab:
    """The lab's own customer, registered on first use: places, pays for and cancels orders."""

    def __init__(self, gateway):
        self.gw = gateway
        self.lock = threading.Lock()
        self.session = None  # a Session once the customer is registered
        self.wallet_seen = False
        self.placed = []  # ids of the orders the lab placed, oldest first

    @property
    def email(self):
        return self.session.email if self.session else None

    def call(self, method, path, body=None, key=None, register=True):
        """(status, parsed body) as the lab's customer; None before it exists unless `register`."""
        with self.lock:
            if self.session is None:
                if not register:
                    return None
                email, password = f"saga-lab-{uuid.uuid4().hex[:10]}@example.org", secrets.token_urlsafe(18)
                self.gw.ok(201, "POST", "/api/v1/users", {"email": email, "password": password, "display_name": "Saga Lab"})
                self.session = Session(self.gw, email, password)
            session = self.session
        return session.call(method, path, body, key=key)

    def open_wallet(self, deadline_seconds=30):
        """Waits, once, for payments to open the wallet of the customer registered a moment ago: an
        order placed before would be declined for want of a wallet, which is not what the lab shows."""
        if self.wallet_seen:
            return
        deadline = time.time() + deadline_seconds
        self.call("GET", "/api/v1/users/me")  # registers the customer if need be
        while self.wallet() is None:
            if time.time() > deadline:
                raise ApiFailure(f"payments has not opened the lab's wallet after {deadline_seconds} s (is payments running?)")
            time.sleep(0.25)
        self.wallet_seen = True

    def wallet(self):
        """The lab customer's wallet, or None before it exists (payments opens it from `user_registered`)."""
        answer = self.call("GET", "/api/v1/wallet", register=False)
        if answer is None or answer[0] == 404:
            return None
        status, body = answer
        if status != 200:
            raise ApiFailure(f"GET /api/v1/wallet answered {status}: {answer_detail(body)}")
        return body

    def place(self, product_id, quantity):
        self.open_wallet()
        status, order = self.call("POST", "/api/v1/orders", {"items": [{"product_id": product_id, "quantity": number(quantity)}]},
                                  key=str(uuid.uuid4()))
        if status != 202:
            raise ApiFailure(f"POST /api/v1/orders answered {status}: {answer_detail(order)}")
        if not isinstance(order, dict) or not ORDER_PATH.fullmatch(f"/orders/{order.get('id')}"):
            raise ApiFailure(f"POST /api/v1/orders answered 202 without an order id: {order!r:.200}")
        with self.lock:
            self.placed.append(order["id"])
        return order

    def deposit(self, amount):
        try:
            minor = Decimal(amount.strip()) * 100
        except InvalidOperation:
            minor = Decimal("NaN")
        if not minor.is_finite() or minor != minor.to_integral_value():
            raise ApiFailure(f"not an amount: {amount!r} (write it as 25.00: at most two decimals)")
        self.open_wallet()
        wallet = self.wallet() or {}
        body = {"amount": {"amount_minor": int(minor), "currency": wallet.get("balance", {}).get("currency", "EUR")}}
        status, receipt = self.call("POST", "/api/v1/wallet/deposits", body, key=str(uuid.uuid4()))
        if status != 201:
            raise ApiFailure(f"POST /api/v1/wallet/deposits answered {status}: {answer_detail(receipt)}")
        return receipt

    def cancel(self, order_id):
        if not self.owns(order_id):
            raise Refused(403, "the lab cancels only the orders it placed (a customer may cancel only their own)")
        status, body = self.call("POST", f"/api/v1/orders/{order_id}/cancel")
        if status != 202:
            raise ApiFailure(f"POST /api/v1/orders/{order_id}/cancel answered {status}: {answer_detail(body)}")

    def placed_ids(self):
        """The ids of the orders the lab placed, oldest first."""
        with self.lock:
            return list(self.placed)

    def owns(self, order_id):
        with self.lock:
            return order_id in self.placed


def number(text):
    """A form field as a JSON number when it is one, else the text as typed (the API then names the field)."""
    for kind in (int, float):
        try:
            return kind(text)
        except (TypeError, ValueError):
            pass
    return text


def system_health(gateway):
    """[(part, "up" or "down")]: the gateway, then its readiness checks (Redis and every upstream).
    Raises Unreachable when the gateway does not answer."""
    _, body, _ = gateway.call("GET", "/health/ready")
    checks = body.get("checks", []) if isinstance(body, dict) else []
    return [("gateway", "up")] + [(str(c.get("name")), str(c.get("status"))) for c in checks if isinstance(c, dict)]


class ConsoleServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port, console, lab, limit):
        super().__init__(("127.0.0.1", port), Handler)
        self.console, self.lab, self.limit = console, lab, limit
        self.form_token = secrets.token_urlsafe(24)
        self.access_key = secrets.token_urlsafe(24)
        self.notes, self.notes_lock = {}, threading.Lock()
        port = self.server_address[1]
        self.hosts = {f"127.0.0.1:{port}", f"localhost:{port}"}

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/"

    @property
    def key_url(self):
        """The address to open first: it carries the key the cookie is set from."""
        return f"{self.url}?key={self.access_key}"

    def note(self, text, ok):
        """Keeps a message for the page a POST redirects to; returns its key."""
        key = secrets.token_hex(6)
        with self.notes_lock:
            if len(self.notes) > 50:
                self.notes.pop(next(iter(self.notes)))
            self.notes[key] = (text, ok)
        return key

    def take_note(self, key):
        with self.notes_lock:
            return self.notes.pop(key, ("", True))


class Handler(http.server.BaseHTTPRequestHandler):
    server_version = "orderflow-sagas-web"
    sys_version = ""

    def log_message(self, format, *args):  # the page polls every 2 s: no access log
        pass

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except (BrokenPipeError, ConnectionResetError):  # the browser went away mid-answer
            self.close_connection = True

    # --- dispatch ---------------------------------------------------------------------------
    def do_GET(self):
        self.answer(self.get)

    def do_POST(self):
        self.answer(self.post)

    def answer(self, handle):
        """Runs `handle`; whatever goes wrong becomes a page, never a traceback to the browser."""
        try:
            self.check_host()
            handle(urllib.parse.urlsplit(self.path))
        except Refused as refused:
            self.refusal(refused)
        except Unreachable as failure:
            self.error_page(502, f"{failure} Is `make run` still running?")
        except ApiFailure as failure:
            self.error_page(502, str(failure))
        except (BrokenPipeError, ConnectionResetError):
            raise
        except Exception as error:  # a bug here, or an answer of a shape the pages do not expect
            print(f"sagas-web: {self.command} {urllib.parse.urlsplit(self.path).path}: {type(error).__name__}: {error}", file=sys.stderr)
            self.error_page(500, f"the console failed on this page ({type(error).__name__}); its terminal says more")

    # --- GET --------------------------------------------------------------------------------
    def get(self, url):
        query = urllib.parse.parse_qs(url.query)
        if url.path in STATIC:  # style and script, the same for everyone: no key needed
            return self.static(*STATIC[url.path])
        if self.let_in(url, query):
            return
        fragment = query.get("fragment") == ["1"]
        if url.path == "/":
            return self.overview(query, fragment)
        match = ORDER_PATH.fullmatch(url.path)
        if match:
            return self.order(match.group(1), query, fragment)
        if url.path == "/lab":
            return self.lab_page(query)
        raise Refused(404, f"no page at {url.path}")

    def let_in(self, url, query):
        """Refuses a request without the console's cookie; turns the printed key into that cookie
        (a redirect to the same page without the key). True when it has answered."""
        key = query.get("key", [""])[0]
        if key and hmac.compare_digest(key, self.server.access_key):
            rest = urllib.parse.urlencode([(name, value) for name, value in urllib.parse.parse_qsl(url.query) if name != "key"])
            self.send_response(303)
            self.send_header("Location", url.path + (f"?{rest}" if rest else ""))
            self.send_header("Set-Cookie", f"{COOKIE}={self.server.access_key}; HttpOnly; SameSite=Strict; Path=/")
            self.send_header("Content-Length", "0")
            self.security_headers()
            self.end_headers()
            return True
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(self.headers.get("cookie", ""))
        except http.cookies.CookieError:
            pass
        sent = cookies[COOKIE].value if COOKIE in cookies else ""
        if not hmac.compare_digest(sent, self.server.access_key):
            raise Refused(401, "open the address `make sagas-web` printed (it carries a key) to use this console")
        return False

    def overview(self, query, fragment):
        status = query.get("status", [""])[0] or None
        if status and status not in pages.STATUSES:
            raise Refused(400, f"status must be one of {', '.join(pages.STATUSES)}")
        try:
            limit = int(query.get("limit", [str(self.server.limit)])[0])
        except ValueError:
            limit = 0
        if not 1 <= limit <= 100:
            raise Refused(400, "limit must be a whole number from 1 to 100")
        live = pages.health(system_health(self.server.console.gw)) + pages.overview(self.server.console.snapshot(limit, status), status, limit)
        self.html(200, live if fragment else pages.page("Sagas", "/", live))

    def order(self, order_id, query, fragment):
        status, body = self.server.console.call("GET", f"/api/v1/orders/{order_id}/saga")
        if status == 404:
            raise Refused(404, f"no order {order_id}")
        if status != 200 or not isinstance(body, dict):
            raise ApiFailure(f"GET /api/v1/orders/{order_id}/saga answered {status}: {answer_detail(body)}")
        sagas = body.get("sagas", [])
        order = self.server.console.get(f"/api/v1/orders/{order_id}")  # after the sagas: see order_live
        live = pages.order_live(order, sagas)
        if order.get("status") == "approved" and self.server.lab.owns(order_id):
            live += pages.cancel_form(order, self.server.form_token)
        if fragment:
            return self.html(200, live)
        text, ok = self.server.take_note(query.get("note", [""])[0])
        self.html(200, pages.page(f"Order {order_id}", "", live, extra=pages.notice(text, ok)))

    def lab_page(self, query):
        text, ok = self.server.take_note(query.get("note", [""])[0])
        console, lab = self.server.console, self.server.lab
        placed = lab.placed_ids()
        parts = system_health(console.gw)  # the gateway answers (else Unreachable: an error page)
        problems = []

        def read(what, fetch):  # a service that is down leaves its part of the page empty, not the page
            try:
                return fetch()
            except Unreachable:
                raise
            except ApiFailure as failure:
                problems.append(f"{what} unknown: {failure}")
                return None

        faults = read("payments' faults", lambda: console.get("/api/v1/payments/faults"))
        products = read("the products", lambda: console.get("/api/v1/products?limit=100").get("data", []))
        wallet = read("the lab's wallet", lab.wallet)
        body = pages.notice(text, ok) + pages.health(parts) + pages.lab(
            faults, products, wallet, lab.email, placed, self.server.form_token, problems)
        self.html(200, pages.page("Lab", "/lab", "", refresh=False, extra=body))

    def static(self, relative, content_type):
        with open(os.path.join(HERE, relative), "rb") as f:
            self.send(200, f.read(), content_type)

    # --- POST -------------------------------------------------------------------------------
    def post(self, url):
        path = url.path
        self.let_in(url, {})
        form = self.form()
        match = CANCEL_PATH.fullmatch(path)
        if path == "/lab/faults":
            self.after(lambda: self.replace_faults(form), "/lab")
        elif path == "/lab/orders":
            self.after(lambda: self.server.lab.place(form.get("product_id", ""), form.get("quantity", "")), "/lab",
                       success=lambda order: f"/orders/{order['id']}")
        elif path == "/lab/deposit":
            self.after(lambda: self.deposit(form.get("amount", "")), "/lab")
        elif match:
            self.after(lambda: self.server.lab.cancel(match.group(1)), path.removesuffix("/cancel"),
                       success=lambda _: path.removesuffix("/cancel"))
        else:
            raise Refused(404, f"nothing to post to at {path}")

    def form(self):
        """The posted form, once it is known to come from this console's own pages."""
        try:
            length = int(self.headers.get("content-length") or 0)
        except ValueError:
            raise Refused(400, "Content-Length is not a number")
        if not 0 <= length <= MAX_FORM_BYTES:
            raise Refused(413, f"a form of at most {MAX_FORM_BYTES} bytes")
        fields = urllib.parse.parse_qs(self.rfile.read(length).decode("utf-8", "replace"), keep_blank_values=True)
        form = {name: values[0] for name, values in fields.items()}
        origin = self.headers.get("origin")
        if origin and urllib.parse.urlsplit(origin).netloc not in self.server.hosts:
            raise Refused(403, "the form was posted from another site")
        if not hmac.compare_digest(form.get("csrf", ""), self.server.form_token):
            raise Refused(403, "the form is not from this console's pages (reload the page and try again)")
        return form

    def after(self, action, back_to, success=None):
        """Runs `action`, then redirects (303): on success to `success(result)` when given, else to
        `back_to` with the result as a note; on failure to `back_to` with the error as a note."""
        try:
            result = action()
        except Unreachable as failure:
            return self.redirect(f"{back_to}?note={self.server.note(f'{failure} Is `make run` still running?', False)}")
        except ApiFailure as failure:
            return self.redirect(f"{back_to}?note={self.server.note(str(failure), False)}")
        if success:
            return self.redirect(success(result))
        self.redirect(f"{back_to}?note={self.server.note(result, True)}")

    def replace_faults(self, form):
        body = {name: number(form[name]) for name in ("decline_rate", "latency_ms") if form.get(name, "").strip()}
        if form.get("crash_point"):
            body["crash_point"] = form["crash_point"]
        status, faults = self.server.console.call("PUT", "/api/v1/payments/faults", body)
        if status != 200:
            raise ApiFailure(f"PUT /api/v1/payments/faults answered {status}: {answer_detail(faults)}")
        if not isinstance(faults, dict):
            raise ApiFailure(f"PUT /api/v1/payments/faults answered 200 with {faults!r:.200}")
        crash = faults.get("crash_point") or "none"
        return (f"payments now injects: decline rate {faults.get('decline_rate')}, latency {faults.get('latency_ms')} ms, "
                f"crash point {crash}")

    def deposit(self, amount):
        receipt = self.server.lab.deposit(amount)
        return f"deposited; the lab's wallet holds {pages.money(receipt.get('balance'))}"

    # --- answers ----------------------------------------------------------------------------
    def check_host(self):
        if self.headers.get("host", "") not in self.server.hosts:
            raise Refused(403, f"this console answers only requests to {self.server.url}")

    def refusal(self, refused):
        self.error_page(refused.status, str(refused), "Refused")

    def error_page(self, status, text, title="Error"):
        self.html(status, pages.page(title, "", pages.notice(text, ok=False), refresh=False))

    def redirect(self, location):
        self.send_response(303)
        self.send_header("Location", location)
        self.send_header("Content-Length", "0")
        self.security_headers()
        self.end_headers()

    def security_headers(self):
        for name, value in SECURITY_HEADERS.items():
            self.send_header(name, value)

    def html(self, status, text):
        self.send(status, text.encode(), "text/html; charset=utf-8")

    def send(self, status, data, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.security_headers()
        self.end_headers()
        self.wfile.write(data)


def stop(signum, frame):
    raise KeyboardInterrupt


def serve(console, lab, port, limit):
    """Serves until Ctrl-C; returns the exit status (2 when the port cannot be had)."""
    try:
        server = ConsoleServer(port, console, lab, limit)
    except OSError as error:
        print(f"sagas: cannot listen on 127.0.0.1:{port} ({error.strerror}); choose another with --port", file=sys.stderr)
        return 2
    print(f"Saga console on {server.key_url} (as the admin: open this address, key included; Ctrl-C stops)", flush=True)
    # SIGTERM stops it too, even when the starting process left it ignored or blocked (both are inherited).
    signal.signal(signal.SIGTERM, stop)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM, signal.SIGINT})
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0
