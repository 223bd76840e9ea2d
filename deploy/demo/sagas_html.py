"""The web saga console's pages (`make sagas-web`): pure functions from the API's answers to HTML.

No I/O here; `sagas_web.py` fetches and serves. Every value from the system is escaped. Pages
use only /static/console.css and /static/console.js (the server's Content-Security-Policy
allows nothing inline), so the time bars are SVG attributes, not style attributes.
"""
from datetime import datetime, timedelta, timezone
from html import escape

from orderflow_api import PARTICIPANT, money, parse_time, rejection, timeline_rows, took_ms
from saga_view import STATUSES, age, duration, saga_cells, step_states, summary

# A step state's symbol beside its name (colour alone says nothing to some readers).
MARKS = {
    "pending": "·", "running": "…", "retrying": "↻", "timed out": "⏱", "done": "✔", "failed": "✘",
    "compensating": "↺…", "compensated": "↺", "timed out, compensating": "⏱↺…", "timed out, compensated": "⏱↺",
    "compensation failed": "⚠",
}
SETTLED = ("approved", "rejected", "cancelled")  # order statuses no saga moves on from
CRASH_POINTS = ("", "before_commit", "after_commit_before_reply")


def e(value):
    return escape("" if value is None else str(value), quote=True)


def page(title, active, live, refresh=True, extra=""):
    """A whole page: navigation, `extra` (forms, kept across refreshes) and the `live` part, which
    console.js re-fetches every 2 s (`?fragment=1`) while the tab is visible."""
    tabs = (("/", "Sagas"), ("/lab", "Lab: faults and orders"))
    nav = "".join(f'<a href="{href}"{" class=active" if href == active else ""}>{label}</a>' for href, label in tabs)
    refresh_attr = ' data-refresh="2000"' if refresh else ""
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(title)} · OrderFlow sagas</title><link rel="stylesheet" href="/static/console.css">
<script src="/static/console.js" defer></script></head>
<body><header><strong>OrderFlow saga console</strong><nav>{nav}</nav>
<label class="pause"><input type="checkbox" id="pause"> pause</label><span id="clock"></span></header>
<main>{extra}<div id="live"{refresh_attr}>{live}</div></main>
<noscript><p class="note">Without JavaScript the page does not refresh by itself: reload it.</p></noscript>
</body></html>"""


def strip(saga):
    """The saga's steps in order, each with its state: ✔ done, ✘ failed, ↺ compensated, …"""
    cells = []
    for name, state, attempts, undo_attempts in step_states(saga):
        where = PARTICIPANT.get(name, "?")
        tries = f", {attempts} attempts" if attempts > 1 else ""
        tries += f", undone in {undo_attempts} attempts" if undo_attempts > 1 else ""
        counts = f" <small>×{attempts}</small>" if attempts > 1 else ""
        counts += f" <small>↺×{undo_attempts}</small>" if undo_attempts > 1 else ""
        cells.append(f'<li class="step {state.replace(", ", "-").replace(" ", "-")}" title="{e(name)} ({e(where)}): {e(state)}{tries}">'
                     f'<span class="mark">{MARKS.get(state, "?")}</span> {e(name)}{counts}</li>')
    return f'<ol class="strip">{"".join(cells)}</ol>'


def health(parts):
    """One line: which parts of the system answer, from the gateway's `/health/ready`."""
    if not parts:
        return ""
    cells = " ".join(f'<span class="part {"up" if state == "up" else "down"}">{e(name)}{"" if state == "up" else " " + e(state)}</span>'
                     for name, state in parts)
    hint = ("" if all(state == "up" for _, state in parts)
            else ' — a service that is down: <code>make revive</code> starts it again (its sagas wait, then retry)')
    return f'<p class="health">System: {cells}{hint}</p>'


def overview(snapshot, status, limit, now=None):
    """The live part of `/`: one row per saga of the newest orders, newest first."""
    now = now or datetime.now(timezone.utc)
    filters = [("", "all")] + [(s, s) for s in STATUSES]
    links = " ".join(
        f'<a href="/?{"status=" + s + "&amp;" if s else ""}limit={limit}"{" class=active" if s == (status or "") else ""}>{label}</a>'
        for s, label in filters)
    rows = []
    for order, sagas in snapshot:
        for index, saga in enumerate(sagas or [None]):
            mark, kind, phase, event, resent, compensated, took = saga_cells(saga, now)
            first = index == 0
            order_cells = (
                f'<td><a href="/orders/{e(order.get("id"))}"><code>{e(order.get("id"))}</code></a></td>'
                f'<td>{e(age(parse_time(order.get("created_at")), now))}</td><td class="num">{e(money(order.get("total")))}</td>'
                f'<td><span class="status {e(order.get("status"))}">{e(order.get("status"))}</span></td>'
                if first else '<td colspan="4"></td>')
            reason = e(order.get("rejection_reason") or "") if first else ""
            rows.append(
                f'<tr class="{"first" if first else "more"}{" running" if mark else ""}">{order_cells}'
                f'<td>{e(kind)}</td><td>{e(phase)}</td><td>{strip(saga) if saga else ""}</td><td>{e(event)}</td>'
                f'<td class="num">{e(resent)}</td><td class="num">{e(compensated)}</td><td class="num">{e(took)}</td>'
                f'<td>{reason}</td></tr>')
    summary_line = f'<p class="summary">{e(summary(snapshot, status))}</p>'
    head = ("<tr><th>order</th><th>placed</th><th>total</th><th>status</th><th>saga</th><th>phase</th><th>steps</th>"
            "<th>last event</th><th>resent</th><th>compensated</th><th>took</th><th>reason</th></tr>")
    body = "".join(rows) or '<tr><td colspan="12">No orders yet: place one in the Lab, or run <code>make demo</code>.</td></tr>'
    return f'<p class="filters">Status: {links}</p>{summary_line}<table class="sagas"><thead>{head}</thead><tbody>{body}</tbody></table>'


def time_bar(saga, now):
    """An SVG line across the saga's duration with a tick per timeline entry (hover: what and when)."""
    start = parse_time(saga.get("created_at"))
    if start is None:
        return ""
    entries = [(parse_time(entry.get("at")), entry, row) for entry, row in zip(saga.get("steps", []), timeline_rows(saga))]
    entries = [((at - start).total_seconds() * 1000, entry, row) for at, entry, row in entries if at is not None]
    took = took_ms(saga)
    # The saga's row and its timeline entries are stamped in different statements: the bar spans both.
    total = max([took if took is not None else (now - start).total_seconds() * 1000] + [ms for ms, _, _ in entries])
    ticks = []
    for ms, entry, (_, name, action, outcome, _) in entries:
        x = 1000 * max(0.0, ms) / total if total > 0 else 0
        label = f"+{ms:.1f} ms {name} {action} {outcome}".strip()
        ticks.append(f'<line class="tick {e(entry.get("kind"))}" x1="{x:.1f}" x2="{x:.1f}" y1="2" y2="22"><title>{e(label)}</title></line>')
    return (f'<svg class="bar" viewBox="-4 0 1008 24" preserveAspectRatio="none" role="img" '
            f'aria-label="timeline over {total:.0f} ms"><line class="axis" x1="0" x2="1000" y1="12" y2="12"></line>'
            f'{"".join(ticks)}</svg><p class="scale"><span>0 ms</span><span>{total:.0f} ms{"" if took is not None else " so far"}</span></p>')


def order_live(order, sagas, now=None):
    """The live part of `/orders/{id}`: the order, and each saga as steps, a time bar and its timeline."""
    now = now or datetime.now(timezone.utc)
    parts = [f'<h1>Order <code class="order-id">{e(order.get("id"))}</code></h1>'
             f'<p class="summary"><span class="status {e(order.get("status"))}">{e(order.get("status"))}</span>'
             f'{e(rejection(order))} · {e(money(order.get("total")))} · placed {e(age(parse_time(order.get("created_at")), now))}</p>']
    for saga in sagas:
        took = took_ms(saga)
        took_text = f"{duration_ms(took)}" if took is not None else "running"
        rows = "".join(
            f'<tr class="{e(entry.get("kind"))}"><td class="num">{e(offset.strip())}</td><td>{e(name)}</td>'
            f'<td>{e(action)}</td><td>{e(outcome)}</td><td>{e(detail)}</td></tr>'
            for entry, (offset, name, action, outcome, detail) in zip(saga.get("steps", []), timeline_rows(saga)))
        parts.append(
            f'<section class="saga"><h2>{e(saga.get("type"))} <small><code>{e(saga.get("id"))}</code> · '
            f'{e(saga.get("phase"))} · {e(took_text)}</small></h2>{strip(saga)}{time_bar(saga, now)}'
            f'<table class="timeline"><thead><tr><th>+ms</th><th>step</th><th>action / command</th><th>outcome</th>'
            f'<th>detail</th></tr></thead><tbody>{rows}</tbody></table></section>')
    if not sagas:
        parts.append('<p class="note">No saga yet.</p>')
    # Read the sagas before the order: a saga that finishes in between then shows a status not
    # yet settled, and the page keeps refreshing, rather than the other way round.
    settled = order.get("status") in SETTLED and bool(sagas) and all(saga.get("finished_at") for saga in sagas)
    return "".join(parts) + (' <p class="note" data-settled="1">Every saga of this order has finished.</p>' if settled else "")


def duration_ms(ms):
    return duration(timedelta(milliseconds=ms))


def cancel_form(order, csrf):
    """A Cancel button for an approved order the lab placed (only its owner may cancel)."""
    return (f'<form method="post" action="/orders/{e(order.get("id"))}/cancel" class="inline">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><button>Cancel this order (CancelOrder saga)</button></form>')


def notice(text, ok=True):
    return f'<p class="notice {"ok" if ok else "error"}">{e(text)}</p>' if text else ""


def lab(faults, products, wallet, customer, placed, csrf, problems=()):
    """`/lab`: payments' injected faults (admin) and an order form for the lab's own customer.
    `faults` or `products` may be None when they could not be read; `problems` says why."""
    unknown = "".join(notice(problem, ok=False) for problem in problems)
    faults = faults or {}
    products = products or []
    crash = faults.get("crash_point") or ""
    options = "".join(f'<option value="{e(p)}"{" selected" if p == crash else ""}>{e(p or "none")}</option>' for p in CRASH_POINTS)
    fault_form = f"""<section><h2>Injected payment faults <small>PUT /api/v1/payments/faults as the admin</small></h2>
<form method="post" action="/lab/faults" class="grid"><input type="hidden" name="csrf" value="{e(csrf)}">
<label>decline rate (0–1) <input name="decline_rate" value="{e(faults.get("decline_rate", 0))}" inputmode="decimal"></label>
<label>latency (ms, 0–60000) <input name="latency_ms" value="{e(faults.get("latency_ms", 0))}" inputmode="numeric"></label>
<label>crash point (fires once) <select name="crash_point">{options}</select></label>
<button>Replace the faults</button></form>
<p class="note">A decline rate of 1 rejects every order at <code>authorize_payment</code> and compensates
<code>reserve_stock</code>; latency beyond the step timeout (10 s by default) makes orders retry; a crash point
stops payments during the next authorization: the order's saga times out and retries (3 attempts,
about 70 s by default), and goes on if <code>make revive</code> starts payments again in time;
after its last attempt the order is rejected <code>timed_out</code> once the void gets through.</p></section>"""
    choices = "".join(
        f'<option value="{e(p["id"])}">{e(p.get("name"))} · {e(money(p.get("price")))} · {e(p.get("stock"))} in stock</option>'
        for p in products)
    balance = money(wallet["balance"]) if wallet else "opening… (payments opens it when it sees user_registered)"
    who = f'{e(customer)}, wallet {e(balance)}' if customer else "a customer the lab registers on first use (wallet 100.00)"
    mine = "".join(f'<li><a href="/orders/{e(i)}"><code>{e(i)}</code></a></li>' for i in reversed(placed[-10:]))
    order_form = f"""<section><h2>Place an order <small>as {who}</small></h2>
<form method="post" action="/lab/orders" class="grid"><input type="hidden" name="csrf" value="{e(csrf)}">
<label>product <select name="product_id">{choices}</select></label>
<label>quantity <input name="quantity" value="1" inputmode="numeric"></label>
<button>Place the order (PlaceOrder saga)</button></form>
<form method="post" action="/lab/deposit" class="grid"><input type="hidden" name="csrf" value="{e(csrf)}">
<label>deposit <input name="amount" value="100.00" inputmode="decimal"></label><button>Deposit into the lab's wallet</button></form>
{f"<p>The lab's orders, newest first:</p><ul>{mine}</ul>" if mine else ""}</section>"""
    return unknown + fault_form + order_form
