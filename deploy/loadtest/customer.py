#!/usr/bin/env python3
"""A fresh customer for the load kit (stdlib only): register, log in, optionally fund the wallet.

usage: customer.py BASE_URL [--deposit-minor N] [--prefix NAME]
  BASE_URL          where /api/v1/users, /api/v1/auth/tokens (and, for deposits, /api/v1/wallet)
                    answer: the gateway, or users directly when no deposit is asked for
  --deposit-minor N waits until the wallet is open (payments opens it from `user_registered`),
                    then deposits N minor units in deposits of at most 100000000 each (payments'
                    per-deposit maximum), each with its own Idempotency-Key
Prints the access token on stdout (nothing else); progress and errors go to stderr.
A 429 is retried after its Retry-After, so this works against a rate-limited gateway.
"""
import argparse, http.client, json, sys, time, urllib.parse, uuid

MAX_DEPOSIT_MINOR = 100_000_000  # WalletAPI.maximumDepositMinor
PASSWORD = "load kit password 1"   # at least 10 characters (RegistrationRules)


def request(base, method, path, body=None, headers=None, attempts=20):
    url = urllib.parse.urlparse(base)
    data = json.dumps(body).encode() if body is not None else None
    h = {"content-type": "application/json", "accept": "application/json", **(headers or {})}
    for _ in range(attempts):
        conn = http.client.HTTPConnection(url.hostname, url.port or 80, timeout=30)
        try:
            conn.request(method, path, body=data, headers=h)
            r = conn.getresponse()
            text = r.read()
        finally:
            conn.close()
        if r.status == 429:
            time.sleep(min(float(r.getheader("retry-after") or 1), 5))
            continue
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text.decode(errors="replace")
        return r.status, parsed
    return 429, None


def fail(message):
    print(f"customer.py: {message}", file=sys.stderr)
    sys.exit(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("base_url")
    p.add_argument("--deposit-minor", type=int, default=0)
    p.add_argument("--currency", default="EUR")
    p.add_argument("--prefix", default="load")
    a = p.parse_args()
    base = a.base_url.rstrip("/")

    email = f"{a.prefix}-{uuid.uuid4().hex[:12]}@example.org"
    status, body = request(base, "POST", "/api/v1/users", {"email": email, "password": PASSWORD, "display_name": a.prefix.title()})
    if status != 201:
        fail(f"register {email} answered {status}: {body}")
    status, tokens = request(base, "POST", "/api/v1/auth/tokens", {"email": email, "password": PASSWORD})
    if status != 200 or not isinstance(tokens, dict) or "access_token" not in tokens:
        fail(f"login answered {status}: {tokens}")
    token = tokens["access_token"]
    auth = {"authorization": f"Bearer {token}"}

    if a.deposit_minor > 0:
        deadline = time.time() + 60
        while True:
            status, wallet = request(base, "GET", "/api/v1/wallet", headers=auth)
            if status == 200:
                break
            if time.time() > deadline:
                fail(f"the wallet of {email} was not opened within 60 s (last answer {status}: {wallet})")
            time.sleep(0.2)
        currency = wallet.get("balance", {}).get("currency", a.currency)
        left = a.deposit_minor
        while left > 0:
            amount = min(left, MAX_DEPOSIT_MINOR)
            status, receipt = request(base, "POST", "/api/v1/wallet/deposits",
                                      {"amount": {"amount_minor": amount, "currency": currency}},
                                      headers={**auth, "idempotency-key": str(uuid.uuid4())})
            if status != 201:
                fail(f"deposit of {amount} answered {status}: {receipt}")
            left -= amount
        print(f"customer.py: {email} registered, balance {receipt['balance']['amount_minor']} {currency} minor units", file=sys.stderr)
    else:
        print(f"customer.py: {email} registered", file=sys.stderr)
    print(token)


if __name__ == "__main__":
    main()
