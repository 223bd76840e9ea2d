#!/usr/bin/env python3
"""`make demo`: a scripted tour of OrderFlow, entirely through the gateway (stdlib only).

usage: demo.py [--stack-dir DIR] [--gateway URL] [--timeout SECONDS]

With the system running (`make run`), reads GATEWAY_URL from DIR/services.env and the admin's
credentials from DIR/stack.env (DIR defaults to $STACK_DIR, else .run/stack), then:

  1. alice and bob (fresh emails each run) register, log in and deposit (Idempotency-Key; alice's
     deposit is sent twice with the same key and must be answered once), and look at the products;
  2. alice places an order                          → approved
  3. bob orders more than his wallet holds          → rejected: insufficient_funds
  4. the admin makes payments decline everything (PUT /api/v1/payments/faults decline_rate 1.0);
     alice orders                                   → rejected: payment_declined, stock released
     (the faults are reset afterwards, also when the demo fails)
  5. alice orders, it is approved, she cancels it   → cancelled: CancelOrder refunds and releases
Every order is followed (GET /api/v1/orders/{id}) until it is settled, then its saga timeline
(GET /api/v1/orders/{id}/saga) is printed. It ends with the orders and both wallets, whose
balances must equal opening balance + deposits − approved orders.

Exits non-zero with a message when any expectation fails, so it doubles as a smoke test.
A 429 from the gateway's rate limiter is retried after its Retry-After.
"""
import argparse, json, os, sys, time, uuid

from orderflow_api import ApiFailure, Gateway, add_system_arguments, money, rejection, running_system, table as table_text, timeline

PASSWORD = "demo password 42"  # RegistrationRules: at least 10 characters

# The seeded catalogue (Services/Orders/Migrations/0002_create_orders_and_sagas.sql).
TEA = "0193a000-0000-7000-8000-000000000001"       # TEA-001   8.99
MUG = "0193a000-0000-7000-8000-000000000003"       # MUG-001  14.99
TEAPOT = "0193a000-0000-7000-8000-000000000004"    # POT-001  49.99
CEREMONY = "0193a000-0000-7000-8000-000000000008"  # SET-001 299.99: more than a new wallet holds

class DemoFailure(ApiFailure):
    pass


def expect(condition, message):
    if not condition:
        raise DemoFailure(message)


def table(headers, rows, indent="  "):
    print(table_text(headers, rows, indent), end="")


class Demo:
    def __init__(self, gateway, admin_email, admin_password, timeout, order_limit):
        self.gw = gateway
        self.admin_email, self.admin_password = admin_email, admin_password
        self.timeout = timeout
        self.order_limit = order_limit
        self.orders = []  # (label, customer, order)
        self.run_id = f"{int(time.time()):x}{uuid.uuid4().hex[:4]}"

    # --- people and money ---------------------------------------------------------------------
    def register(self, name):
        email = f"{name}-{self.run_id}@example.org"
        user, _ = self.gw.ok(201, "POST", "/api/v1/users", {"email": email, "password": PASSWORD, "display_name": name.title()})
        tokens, _ = self.gw.ok(200, "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD})
        expect("access_token" in tokens, f"login of {email} returned no access_token")
        me, _ = self.gw.ok(200, "GET", "/api/v1/users/me", token=tokens["access_token"])
        expect(me.get("email", email).lower() == email.lower(), f"/users/me of {email} shows {me.get('email')}")
        print(f"  {name:<6} registered as {email} (user {user.get('id', '?')}), logged in")
        return {"name": name, "email": email, "token": tokens["access_token"]}

    def wallet(self, who, wait=False):
        deadline = time.time() + self.timeout
        while True:
            status, body, _ = self.gw.call("GET", "/api/v1/wallet", token=who["token"])
            if status == 200:
                return body
            if not wait or status != 404 or time.time() > deadline:
                raise DemoFailure(f"{who['name']}'s wallet: GET /api/v1/wallet answered {status}: {body}")
            time.sleep(0.25)  # payments opens the wallet when it sees user_registered on Kafka

    def deposit(self, who, amount_minor, currency, repeat=False):
        key = str(uuid.uuid4())
        body = {"amount": {"amount_minor": amount_minor, "currency": currency}}
        receipt, _ = self.gw.ok(201, "POST", "/api/v1/wallet/deposits", body, token=who["token"], key=key)
        print(f"  {who['name']:<6} deposited {money(body['amount'])} (Idempotency-Key {key}): balance {money(receipt['balance'])}")
        if repeat:
            again, headers = self.gw.ok(201, "POST", "/api/v1/wallet/deposits", body, token=who["token"], key=key)
            expect(again.get("transaction_id") == receipt.get("transaction_id"),
                   "the repeated deposit (same Idempotency-Key) made a second transaction")
            wallet = self.wallet(who)
            expect(wallet["balance"]["amount_minor"] == receipt["balance"]["amount_minor"],
                   "the repeated deposit (same Idempotency-Key) changed the balance")
            marker = headers.get("idempotent-replayed")
            print(f"  {who['name']:<6} sent the same deposit again with the same key: the stored answer came back "
                  f"(same transaction, balance unchanged{', Idempotent-Replayed: ' + marker if marker else ''})")
            if not marker:
                print("  warning: the replay carried no Idempotent-Replayed header (does the gateway pass response headers on?)")
        return receipt

    # --- orders ---------------------------------------------------------------------------------
    def place(self, who, items):
        order, _ = self.gw.ok(202, "POST", "/api/v1/orders", {"items": items}, token=who["token"], key=str(uuid.uuid4()))
        print(f"  {who['name']} placed order {order['id']} ({money(order.get('total'))}): 202, status {order.get('status')}")
        return order

    def settle(self, who, order, settled):
        """Polls the order until its status is one of `settled`."""
        deadline = time.time() + self.timeout
        status = order.get("status")
        while status not in settled:
            if time.time() > deadline:
                self.timeline(who, order, title="timeline so far")
                raise DemoFailure(f"order {order['id']} is still {status} after {self.timeout:.0f} s (expected {' or '.join(settled)})")
            time.sleep(0.25)
            order, _ = self.gw.ok(200, "GET", f"/api/v1/orders/{order['id']}", token=who["token"])
            status = order.get("status")
        print(f"  order {order['id']} is {status}{rejection(order)}")
        return order

    def timeline(self, who, order, title="saga timeline"):
        body, _ = self.gw.ok(200, "GET", f"/api/v1/orders/{order['id']}/saga", token=who["token"])
        sagas = body.get("sagas", [])
        for saga in sagas:
            print(timeline(saga, title), end="")
        print()
        return sagas

    def record(self, label, who, order):
        self.orders.append((label, who["name"], order))

    # --- the tour --------------------------------------------------------------------------------
    def run(self):
        section("0. the gateway")
        health, _ = self.gw.ok(200, "GET", "/health")
        print(f"  {self.gw.base}/health: 200 {json.dumps(health) if isinstance(health, dict) else ''}")

        section("1. alice and bob register, log in, deposit, and look at the products")
        alice, bob = self.register("alice"), self.register("bob")
        opening = {}
        for who in (alice, bob):
            wallet = self.wallet(who, wait=True)
            opening[who["name"]] = wallet["balance"]["amount_minor"]
            print(f"  {who['name']:<6} wallet opened by payments (from user_registered): {money(wallet['balance'])}")
        currency = self.wallet(alice)["balance"]["currency"]
        products, _ = self.gw.ok(200, "GET", "/api/v1/products?limit=100", token=alice["token"])
        catalogue = {p["id"]: p for p in products.get("data", [])}
        for needed in (TEA, MUG, TEAPOT, CEREMONY):
            expect(needed in catalogue, f"product {needed} is not in GET /api/v1/products")
        print()
        table(("sku", "name", "price", "stock"),
              [(p["sku"], p["name"], money(p["price"]), p["stock"]) for p in products["data"]])
        print()
        mug, teapot, tea, ceremony = (catalogue[i]["price"]["amount_minor"] for i in (MUG, TEAPOT, TEA, CEREMONY))
        alice_needs = 2 * mug + teapot  # the two orders that are approved before any refund
        alice_deposit = max(5000, alice_needs - opening["alice"] + 1000)
        self.deposit(alice, alice_deposit, currency, repeat=True)
        self.deposit(bob, 1000, currency)
        deposits = {"alice": alice_deposit, "bob": 1000}
        approved_total = {"alice": 0, "bob": 0}

        section("2. alice orders two mugs: approved")
        order = self.place(alice, [{"product_id": MUG, "quantity": 2}])
        order = self.settle(alice, order, ("approved", "rejected"))
        self.timeline(alice, order)
        expect(order["status"] == "approved", f"alice's mugs: expected approved, got {order['status']} ({order.get('rejection_reason')})")
        approved_total["alice"] += order["total"]["amount_minor"]
        self.record("two mugs", alice, order)

        section("3. bob orders more than his wallet holds: rejected, insufficient funds")
        balance = self.wallet(bob)["balance"]["amount_minor"]
        quantity = balance // ceremony + 1
        stock = catalogue[CEREMONY]["stock"]
        expect(quantity <= min(stock, 100) and quantity * ceremony <= self.order_limit,
               f"bob's balance ({balance}) is too large to overdraw with {catalogue[CEREMONY]['sku']} within the per-order limit "
               f"({self.order_limit}) and its stock ({stock}): run the demo on a system with the default "
               "PAYMENTS_STARTING_BALANCE_MINOR / PAYMENTS_ORDER_LIMIT_MINOR")
        print(f"  bob's balance is {balance / 100:,.2f}; he orders {quantity} × {catalogue[CEREMONY]['name']} ({quantity * ceremony / 100:,.2f})")
        order = self.place(bob, [{"product_id": CEREMONY, "quantity": quantity}])
        order = self.settle(bob, order, ("approved", "rejected"))
        sagas = self.timeline(bob, order)
        expect(order["status"] == "rejected" and order.get("rejection_reason") == "insufficient_funds",
               f"bob's order: expected rejected (insufficient_funds), got {order['status']} ({order.get('rejection_reason')})")
        expect(any(s.get("step") == "release_stock" for saga in sagas for s in saga.get("steps", [])),
               "bob's rejected order: the timeline shows no release_stock compensation")
        self.record("ceremony set (too expensive)", bob, order)

        section("4. the admin injects a fault: payments declines every authorization")
        admin_tokens, _ = self.gw.ok(200, "POST", "/api/v1/auth/tokens", {"email": self.admin_email, "password": self.admin_password})
        admin = {"name": "admin", "token": admin_tokens["access_token"]}
        before, _ = self.gw.ok(200, "GET", "/api/v1/payments/faults", token=admin["token"])
        print(f"  faults before: {json.dumps(before)}")
        try:
            faults, _ = self.gw.ok(200, "PUT", "/api/v1/payments/faults", {"decline_rate": 1.0, "latency_ms": 0}, token=admin["token"])
            print(f"  PUT /api/v1/payments/faults {json.dumps(faults)}")
            order = self.place(alice, [{"product_id": TEA, "quantity": 1}])
            order = self.settle(alice, order, ("approved", "rejected"))
            sagas = self.timeline(alice, order)
        finally:
            reset, _ = self.gw.ok(200, "PUT", "/api/v1/payments/faults", {"decline_rate": 0, "latency_ms": 0}, token=admin["token"])
            print(f"  faults reset: {json.dumps(reset)}")
        expect(order["status"] == "rejected" and order.get("rejection_reason") == "payment_declined",
               f"alice's order under the fault: expected rejected (payment_declined), got {order['status']} ({order.get('rejection_reason')})")
        steps = [s for saga in sagas for s in saga.get("steps", [])]
        expect(any(s.get("step") == "authorize_payment" and s.get("kind") == "step_failed" for s in steps),
               "the timeline shows no failed authorize_payment")
        expect(any(s.get("step") == "release_stock" for s in steps), "the timeline shows no release_stock compensation")
        self.record("tea (injected decline)", alice, order)

        section("5. alice orders a teapot, it is approved, she cancels it: refund + stock released")
        order = self.place(alice, [{"product_id": TEAPOT, "quantity": 1}])
        order = self.settle(alice, order, ("approved", "rejected"))
        expect(order["status"] == "approved", f"alice's teapot: expected approved, got {order['status']} ({order.get('rejection_reason')})")
        paid = self.wallet(alice)["balance"]["amount_minor"]
        print(f"  alice's balance after paying: {paid / 100:,.2f}")
        cancelled, _ = self.gw.ok(202, "POST", f"/api/v1/orders/{order['id']}/cancel", token=alice["token"])
        print(f"  POST /api/v1/orders/{order['id']}/cancel: 202, status {cancelled.get('status')}")
        order = self.settle(alice, cancelled, ("cancelled", "approved"))
        sagas = self.timeline(alice, order)
        expect(order["status"] == "cancelled", f"alice's teapot: expected cancelled, got {order['status']}")
        expect(any(saga.get("type") == "cancel_order" for saga in sagas), "no cancel_order saga in the timeline")
        refunded = self.wallet(alice)["balance"]["amount_minor"]
        expect(refunded == paid + order["total"]["amount_minor"],
               f"the cancellation did not refund {order['total']['amount_minor']}: balance {paid} → {refunded}")
        print(f"  alice's balance after the refund: {refunded / 100:,.2f}")
        self.record("teapot (cancelled)", alice, order)

        section("summary")
        table(("order", "customer", "what", "total", "status", "reason"),
              [(o["id"], name, label, money(o.get("total")), o["status"], o.get("rejection_reason") or "")
               for label, name, o in self.orders])
        print()
        rows, problems = [], []
        for who in (alice, bob):
            name = who["name"]
            actual = self.wallet(who)["balance"]["amount_minor"]
            wanted = opening[name] + deposits[name] - approved_total[name]
            rows.append((name, f"{opening[name] / 100:,.2f}", f"{deposits[name] / 100:,.2f}", f"{approved_total[name] / 100:,.2f}",
                         f"{wanted / 100:,.2f}", f"{actual / 100:,.2f}", "ok" if actual == wanted else "MISMATCH"))
            if actual != wanted:
                problems.append(f"{name}'s balance is {actual}, expected {wanted}")
        table(("wallet", "opening", "deposits", "kept orders", "expected", "balance", ""), rows)
        expect(not problems, "; ".join(problems))
        print("\n  Every expectation held. Notifications for these users: GET /api/v1/notifications (bearer token).")


def section(title):
    print(f"\n== {title} " + "=" * max(0, 76 - len(title)))


def main():
    p = argparse.ArgumentParser(description="OrderFlow demo through the gateway")
    add_system_arguments(p)
    p.add_argument("--timeout", type=float, default=float(os.environ.get("DEMO_TIMEOUT", 30)), help="seconds to wait for each order")
    a = p.parse_args()
    try:
        gateway, admin_email, admin_password = running_system(a.stack_dir, a.gateway)
    except ApiFailure as failure:
        print(f"demo: {failure}", file=sys.stderr)
        return 2
    order_limit = int(os.environ.get("PAYMENTS_ORDER_LIMIT_MINOR", 50000))
    demo = Demo(Gateway(gateway), admin_email, admin_password, a.timeout, order_limit)
    try:
        demo.run()
    except ApiFailure as failure:
        print(f"\nDEMO FAILED: {failure}", file=sys.stderr)
        print(f"(service logs: {os.path.join(a.stack_dir, 'logs')}/)", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
