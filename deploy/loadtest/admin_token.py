#!/usr/bin/env python3
"""The bootstrap administrator's access token for the load kit (stdlib only), once no order is in
flight: a tool that then arms payments' faults (`make fuzz`'s admin pass) cannot crash payments
in the middle of an order placed before it.

usage: admin_token.py BASE_URL [--settle-seconds N]
  BASE_URL            the gateway
  --settle-seconds N  wait up to N seconds (default 120) until no order is pending or cancelling
Reads ORDERFLOW_ADMIN_EMAIL and ORDERFLOW_ADMIN_PASSWORD (the stack's stack.env). Prints the token
on stdout (nothing else); progress and errors go to stderr. Exits 1 when the orders do not settle.
"""
import argparse, os, sys, time

from customer import request


def fail(message):
    print(f"admin_token.py: {message}", file=sys.stderr)
    sys.exit(1)


def in_flight(base, auth):
    """How many orders are pending or cancelling (at most 100 of each are counted)."""
    count = 0
    for status in ("pending", "cancelling"):
        answer, page = request(base, "GET", f"/api/v1/orders?status={status}&limit=100", headers=auth)
        if answer != 200 or not isinstance(page, dict):
            fail(f"GET /api/v1/orders?status={status} answered {answer}: {page}")
        count += len(page.get("data", []))
    return count


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base_url")
    p.add_argument("--settle-seconds", type=float, default=120)
    a = p.parse_args()
    base = a.base_url.rstrip("/")
    email, password = os.environ.get("ORDERFLOW_ADMIN_EMAIL"), os.environ.get("ORDERFLOW_ADMIN_PASSWORD")
    if not email or not password:
        fail("ORDERFLOW_ADMIN_EMAIL and ORDERFLOW_ADMIN_PASSWORD must be set (they are in the stack's stack.env)")
    status, tokens = request(base, "POST", "/api/v1/auth/tokens", {"email": email, "password": password})
    if status != 200 or not isinstance(tokens, dict) or "access_token" not in tokens:
        fail(f"the admin's login answered {status}: {tokens}")
    auth = {"authorization": f"Bearer {tokens['access_token']}"}
    deadline = time.time() + a.settle_seconds
    while (left := in_flight(base, auth)) > 0:
        if time.time() > deadline:
            fail(f"{left} orders still pending or cancelling after {a.settle_seconds:g} s")
        time.sleep(0.5)
    print(tokens["access_token"])


if __name__ == "__main__":
    main()
