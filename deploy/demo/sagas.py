#!/usr/bin/env python3
"""`make sagas`: the saga console — every order's sagas as they run, through the gateway (stdlib only).

usage: sagas.py [ORDER_ID] [--stack-dir DIR] [--gateway URL] [--limit N] [--status STATUS]
                [--interval SECONDS] [--once]
       sagas.py --web [--port N] [--stack-dir DIR] [--gateway URL] [--limit N]   (`make sagas-web`)

With the system running (`make run`), logs in as the admin (who sees every customer's orders) and
shows the newest orders, one line per saga: its phase, the last thing that happened and in which
service, how many commands were re-sent after a timeout, how many compensations ran, how long it
took or has been running, and the order's rejection reason. Sagas still running are marked `*`.
On a terminal it redraws every --interval seconds until Ctrl-C (an error is shown in the picture
and the next redraw tries again); otherwise, or with --once, it prints one picture and exits.

With --web it serves the same as pages on 127.0.0.1:8089 (sagas_web.py says more; open the address
it prints, key included), with each saga's steps drawn, a time bar per saga, and a lab to inject
payment faults and place and cancel orders.

With ORDER_ID it shows that order's sagas step by step (the timeline table of `make demo`), again
whenever they change, until every saga of the order has finished (--once: the picture as it is).

The gateway URL comes from DIR/services.env (DIR: $STACK_DIR, else .run/stack) unless --gateway
names one; the admin's credentials from DIR/stack.env, else ORDERFLOW_ADMIN_EMAIL /
ORDERFLOW_ADMIN_PASSWORD. Exits 2 when no running system is found or the gateway does not answer,
1 when the system answers something unexpected (a refused login included).
"""
import argparse, sys, time, urllib.parse, uuid
from datetime import datetime, timezone

from orderflow_api import (ApiFailure, Gateway, Session, Unreachable, add_system_arguments, money, parse_time, rejection,
                          running_system, table, timeline)
from saga_view import STATUSES, age, saga_cells, summary


class Console(Session):
    """The admin's view of the sagas (the admin sees every customer's orders)."""

    def orders(self, limit, status, with_sagas=False):
        query = {"limit": str(limit)}
        if status:
            query["status"] = status
        if with_sagas:
            query["include"] = "sagas"
        return self.get("/api/v1/orders?" + urllib.parse.urlencode(query)).get("data", [])

    def sagas(self, order_id):
        return self.get(f"/api/v1/orders/{order_id}/saga").get("sagas", [])

    def snapshot(self, limit, status):
        """[(order, its sagas)] of the newest `limit` orders (of `status` if given), newest first:
        one request (`include=sagas`), whatever `limit` is."""
        return [(order, order.get("sagas") or []) for order in self.orders(limit, status, with_sagas=True)]

    def overview(self, limit, status):
        """The newest orders, a line per saga, and a summary line."""
        now = datetime.now(timezone.utc)
        rows = []
        snapshot = self.snapshot(limit, status)
        for order, sagas in snapshot:
            reason = order.get("rejection_reason") or ""
            for index, saga in enumerate(sagas or [None]):
                first = index == 0
                cells = saga_cells(saga, now)
                rows.append((
                    cells[0],
                    order["id"] if first else "",
                    age(parse_time(order.get("created_at")), now) if first else "",
                    money(order.get("total")) if first else "",
                    order.get("status", "?") if first else "",
                ) + cells[1:] + ((reason if first else ""),))
        headers = ("", "order", "placed", "total", "status", "saga", "phase", "last event", "resent", "compensated", "took", "reason")
        return table(headers, rows) + f"  {summary(snapshot, status)}\n"

    def order(self, order_id):
        """One order's sagas step by step; and whether all of them have finished."""
        order = self.get(f"/api/v1/orders/{order_id}")
        sagas = self.sagas(order_id)
        text = f"  order {order_id}: {order.get('status')}{rejection(order)}, {money(order.get('total'))}\n"
        text += "".join(timeline(saga) for saga in sagas) or "  (no saga yet)\n"
        return text, bool(sagas) and all(saga.get("finished_at") for saga in sagas)


def bounded(kind, low, high):
    """An argparse type: a `kind` number from `low` to `high`."""
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text}")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low:g} to {high:g}")
        return value
    return parse


def order_id(text):
    try:
        return str(uuid.UUID(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an order id (a UUID): {text}")


def main():
    p = argparse.ArgumentParser(description="OrderFlow saga console (through the gateway, as the admin)")
    p.add_argument("order", nargs="?", type=order_id, help="an order id: show its sagas step by step")
    add_system_arguments(p)
    p.add_argument("--limit", type=bounded(int, 1, 100), default=15, metavar="N", help="newest N orders (1-100, default 15)")
    p.add_argument("--status", choices=STATUSES, help="only orders in this status")
    p.add_argument("--interval", type=bounded(float, 0.5, 3600), metavar="SECONDS",
                   help="seconds between redraws (0.5-3600, default 2)")
    p.add_argument("--once", action="store_true", help="print once and exit")
    p.add_argument("--web", action="store_true", help="serve the console as web pages on 127.0.0.1 instead (sagas_web.py)")
    p.add_argument("--port", type=bounded(int, 0, 65535), default=8089, help="--web's port (default 8089; 0: any free one)")
    a = p.parse_args()
    if a.web and (a.order or a.once or a.status or a.interval):
        p.error("--web takes no ORDER_ID, --once, --status or --interval (the pages have their own)")
    interval = a.interval or 2.0
    try:
        gateway, email, password = running_system(a.stack_dir, a.gateway)
    except ApiFailure as failure:
        print(f"sagas: {failure}", file=sys.stderr)
        return 2
    console = Console(Gateway(gateway), email, password)
    if a.web:
        return web(console, a)
    terminal = sys.stdout.isatty()
    shown, drawn = None, 0
    try:
        while True:
            try:
                if a.order:
                    text, finished = console.order(a.order)
                else:
                    text, finished = console.overview(a.limit, a.status), not terminal
            except ApiFailure as failure:
                if not terminal or a.once or drawn == 0:
                    hint = " (is `make run` still running?)" if isinstance(failure, Unreachable) else ""
                    print(f"sagas: {failure}{hint}", file=sys.stderr)
                    return 2 if isinstance(failure, Unreachable) else 1
                text, finished = f"  {failure} — trying again\n", False
            drawn += 1
            if terminal and not a.once:
                stamp = datetime.now().strftime("%H:%M:%S")
                sys.stdout.write("\x1b[H\x1b[2J")  # home, clear
                print(f"OrderFlow sagas via {gateway} — {stamp}, every {interval:g} s (Ctrl-C quits)\n")
                sys.stdout.write(text)
            elif text != shown:
                sys.stdout.write(text if shown is None else "\n" + text)
            shown = text
            sys.stdout.flush()
            if a.once or finished:
                return 0
            time.sleep(interval)
    except KeyboardInterrupt:
        return 0


def web(console, a):
    """--web: checks the admin can read orders, then serves the pages until Ctrl-C."""
    import sagas_web  # only here: the terminal console needs none of it
    try:
        console.orders(1, None)
    except ApiFailure as failure:
        hint = " (is `make run` still running?)" if isinstance(failure, Unreachable) else ""
        print(f"sagas: {failure}{hint}", file=sys.stderr)
        return 2 if isinstance(failure, Unreachable) else 1
    return sagas_web.serve(console, sagas_web.Lab(console.gw), a.port, a.limit)


if __name__ == "__main__":
    sys.exit(main())
