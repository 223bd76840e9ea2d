#!/usr/bin/env python3
"""The load side of `make bench-saga` (stdlib only).

usage: saga_load.py USERS_URL PAYMENTS_URL ORDERS_URL MODE SECONDS [RATE_OR_CONCURRENCY]
  MODE saturate: CONCURRENCY closed-loop workers place orders for SECONDS.
  MODE rate:     orders placed open-loop at RATE per second for SECONDS (a thread per request
                 slot, so a slow answer does not delay the next send).
Prints one JSON line: how many orders were placed, how many requests failed and why, and the CPU
seconds this process spent placing them. With SAGA_LOAD_READY_FILE set, creates that file once the
customers are registered, just before the load starts.
Customers are registered and logged in first (their wallets must be large: the bench script
sets PAYMENTS_STARTING_BALANCE_MINOR).
"""
import http.client, json, os, random, sys, threading, time, urllib.parse, uuid

users, payments, orders, mode, seconds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], float(sys.argv[5])
knob = float(sys.argv[6]) if len(sys.argv) > 6 else 16
# Any of the eight seeded products (the bench tops their stock up): one product for every
# order would serialize all orders on that product row's lock.
PRODUCTS = [f"0193a000-0000-7000-8000-00000000000{i}" for i in range(1, 9)]

def request(base, method, path, body=None, headers=None):
    url = urllib.parse.urlparse(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    data = json.dumps(body).encode() if body is not None else None
    h = {"content-type": "application/json", **(headers or {})}
    conn.request(method, path, body=data, headers=h)
    r = conn.getresponse()
    text = r.read()
    conn.close()
    return r.status, (json.loads(text) if text else None)

def customer():
    email = f"bench-{uuid.uuid4().hex[:12]}@example.org"
    status, _ = request(users, "POST", "/api/v1/users", {"email": email, "password": "bench password 1", "display_name": "Bench"})
    assert status == 201, status
    status, tokens = request(users, "POST", "/api/v1/auth/tokens", {"email": email, "password": "bench password 1"})
    assert status == 200, status
    token = tokens["access_token"]
    deadline = time.time() + 60
    while request(payments, "GET", "/api/v1/wallet", headers={"authorization": f"Bearer {token}"})[0] != 200:
        assert time.time() < deadline, "wallet not opened"
        time.sleep(0.2)
    return token

tokens = [customer() for _ in range(8)]
# The load starts now: the bench takes its CPU snapshot when this file appears, and the CPU this
# process spends from here on is reported with the results.
if os.environ.get("SAGA_LOAD_READY_FILE"):
    open(os.environ["SAGA_LOAD_READY_FILE"], "w").close()
cpu_at_start = sum(os.times()[:2])
placed, failed, lock = [], [0], threading.Lock()
statuses = {}

class Worker:
    """One keep-alive connection to orders."""
    def __init__(self):
        url = urllib.parse.urlparse(orders)
        self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)

    def place(self, token):
        body = json.dumps({"items": [{"product_id": random.choice(PRODUCTS), "quantity": 1}]}).encode()
        try:
            self.conn.request("POST", "/api/v1/orders", body=body, headers={
                "content-type": "application/json", "authorization": f"Bearer {token}", "idempotency-key": str(uuid.uuid4())})
            r = self.conn.getresponse()
            text = r.read()
            ok = r.status == 202
            if not ok:
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
        except Exception as error:
            with lock:
                statuses[type(error).__name__] = statuses.get(type(error).__name__, 0) + 1
            url = urllib.parse.urlparse(orders)
            self.conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
            ok, text = False, b""
        with lock:
            if ok:
                placed.append(json.loads(text)["id"])
            else:
                failed[0] += 1

end = time.time() + seconds
if mode == "saturate":
    def loop(i):
        w = Worker()
        while time.time() < end:
            w.place(tokens[i % len(tokens)])
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(int(knob))]
else:
    interval = 1.0 / knob
    slots = threading.Semaphore(64)
    pool = [Worker() for _ in range(64)]
    free = list(pool)
    def fire(i):
        w = None
        with lock:
            w = free.pop()
        try:
            w.place(tokens[i % len(tokens)])
        finally:
            with lock:
                free.append(w)
            slots.release()
    def schedule():
        i, start = 0, time.time()
        while time.time() < end:
            target = start + i * interval
            delay = target - time.time()
            if delay > 0:
                time.sleep(delay)
            slots.acquire()
            threading.Thread(target=fire, args=(i,)).start()
            i += 1
    threads = [threading.Thread(target=schedule)]
for t in threads:
    t.start()
for t in threads:
    t.join()
time.sleep(0.5)
print(json.dumps({"placed": len(placed), "failed": failed[0], "failures": {str(k): v for k, v in statuses.items()},
                  "cpu_seconds": round(sum(os.times()[:2]) - cpu_at_start, 3)}))
