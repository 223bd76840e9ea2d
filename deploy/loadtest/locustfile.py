"""Locust load test for the OrderFlow gateway: the same two scenarios as `make load` (wrk), with
many users instead of one.

Each simulated user registers and logs in (on_start), funds its wallet, then reads its profile
(GET /api/v1/users/me) four times for every order it places (POST /api/v1/orders with a fresh
Idempotency-Key, one unit of a seeded product).

Run it (Locust is not a project dependency; install it into .deps, which git ignores):

    python3 -m venv .deps/locust-venv && .deps/locust-venv/bin/pip install locust
    source .run/stack/services.env        # GATEWAY_URL of a running `make run`
    .deps/locust-venv/bin/locust -f deploy/loadtest/locustfile.py --host $GATEWAY_URL
    # then open http://127.0.0.1:8089, or headless:
    .deps/locust-venv/bin/locust -f deploy/loadtest/locustfile.py --host $GATEWAY_URL \
        --headless -u 50 -r 10 -t 60s

The gateway rate-limits per user (reads 100 burst / 50 per second, writes 20 / 5 by default):
with think times of 0.1-0.5 s a user stays under the read limit but every user is a separate
bucket, so raise RATE_LIMIT_* (see deploy/loadtest/load.sh) to measure the system rather than
the limiter. Registration and login are anonymous, limited per client address: starting many
users at once from one machine spends that bucket, and on_start retries 429s after Retry-After.
"""
import random
import time
import uuid

from locust import HttpUser, between, task
from locust.exception import StopUser

PASSWORD = "locust password 1"
# The seeded catalogue (Services/Orders/Migrations/0002_create_orders_and_sagas.sql).
PRODUCTS = [f"0193a000-0000-7000-8000-00000000000{i}" for i in range(1, 9)]
DEPOSIT_MINOR = 100_000_000  # payments' largest single deposit


class Customer(HttpUser):
    wait_time = between(0.1, 0.5)

    def _post_retrying(self, path, json, name, headers=None, expected=(200, 201)):
        """POSTs, retrying 429 after Retry-After (setup calls only; the tasks report 429s)."""
        for _ in range(30):
            with self.client.post(path, json=json, headers=headers, name=name, catch_response=True) as r:
                if r.status_code == 429:
                    r.success()  # retried below; not a failure of the system under test
                    time.sleep(min(5.0, float(r.headers.get("Retry-After", 1))))
                    continue
                if r.status_code not in expected:
                    r.failure(f"{r.status_code}: {r.text[:200]}")
                    return None
                return r.json()
        return None

    def on_start(self):
        email = f"locust-{uuid.uuid4().hex[:12]}@example.org"
        if self._post_retrying("/api/v1/users", {"email": email, "password": PASSWORD, "display_name": "Locust"}, "register", expected=(201,)) is None:
            raise StopUser()
        tokens = self._post_retrying("/api/v1/auth/tokens", {"email": email, "password": PASSWORD}, "login", expected=(200,))
        if tokens is None:
            raise StopUser()
        self.auth = {"Authorization": f"Bearer {tokens['access_token']}"}
        # payments opens the wallet from user_registered (through Kafka): wait for it, then fund it.
        deadline = time.time() + 60
        while time.time() < deadline:
            with self.client.get("/api/v1/wallet", headers=self.auth, name="wallet (setup)", catch_response=True) as r:
                if r.status_code == 200:
                    break
                r.success()
            time.sleep(0.5)
        self._post_retrying("/api/v1/wallet/deposits", {"amount": {"amount_minor": DEPOSIT_MINOR, "currency": "EUR"}}, "deposit",
                            headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())}, expected=(201,))

    @task(4)
    def me(self):
        self.client.get("/api/v1/users/me", headers=self.auth, name="GET /api/v1/users/me")

    @task(1)
    def place_order(self):
        body = {"items": [{"product_id": random.choice(PRODUCTS), "quantity": 1}]}
        with self.client.post("/api/v1/orders", json=body, name="POST /api/v1/orders", catch_response=True,
                              headers={**self.auth, "Idempotency-Key": str(uuid.uuid4())}) as r:
            if r.status_code != 202:
                r.failure(f"{r.status_code}: {r.text[:200]}")
