"""How a saga reads: what both saga consoles (`sagas.py` in a terminal, `sagas_web.py` in a browser)
derive from `GET /api/v1/orders` and `GET /api/v1/orders/{id}/saga`. Pure functions, no I/O."""
from orderflow_api import PARTICIPANT, parse_time

STATUSES = ("pending", "approved", "rejected", "cancelling", "cancelled")  # an order's, in the order they come

# Each saga's steps in order, and which step each compensation undoes (OrderSagas.swift).
STEPS = {
    "place_order": ("reserve_stock", "validate_customer", "authorize_payment", "approve_order"),
    "cancel_order": ("refund_payment", "release_stock", "mark_cancelled"),
}
UNDOES = {"place_order": {"release_stock": "reserve_stock", "void_payment": "authorize_payment"}}
# What a timeline entry says about its step's state; entries of other kinds leave it as it was.
STATE_AFTER = {
    "command_sent": "running", "local_run": "running", "retried": "retrying", "timed_out": "timed out",
    "step_succeeded": "done", "step_failed": "failed", "compensation_sent": "compensating", "compensated": "compensated",
}


def step_states(saga):
    """[(step, state, attempts, undo attempts)] of one saga of `GET /api/v1/orders/{id}/saga`, in the
    saga's order.

    A state is "pending" (not reached), "running", "retrying", "timed out", "done", "failed",
    "compensating" or "compensated" (undone; "timed out, compensating" / "timed out, compensated"
    when its attempts ran out first, as a payment that got no answer is voided), or "compensation
    failed". Attempts counts the step's own commands, undo attempts its compensation's (0 when it
    was not undone; the engine re-sends a compensation that times out until it is answered). Steps
    the timeline names but the definitions above do not (a newer saga) come last."""
    kind = saga.get("type", "")
    order = list(STEPS.get(kind, ()))
    undoes = UNDOES.get(kind, {})
    states, attempts, undo_attempts, timed_out = {}, {}, {}, set()
    for entry in saga.get("steps", []):
        name, what = entry.get("step"), entry.get("kind")
        if not name or what not in STATE_AFTER:
            continue
        state, compensation = STATE_AFTER[what], name in undoes
        if compensation:  # its progress is the undone step's
            name = undoes[name]
            if states.get(name) == "timed out":
                timed_out.add(name)
            if what == "step_failed":
                state = "compensation failed"
            else:
                state = "compensated" if what == "compensated" else "compensating"
                state = f"timed out, {state}" if name in timed_out else state
        if name not in order:
            order.append(name)
        states[name] = state
        if what in ("command_sent", "compensation_sent", "retried", "local_run"):
            counted = undo_attempts if compensation else attempts
            counted[name] = max(counted.get(name, 0), entry.get("attempt") or 1)
    return [(name, states.get(name, "pending"), attempts.get(name, 0), undo_attempts.get(name, 0)) for name in order]


def summary(snapshot, status):
    """'N newest orders (status): 1 approved, 2 rejected; S sagas, R running' of a console snapshot."""
    by_status = {}
    for order, _ in snapshot:
        by_status[order.get("status")] = by_status.get(order.get("status"), 0) + 1
    counts = ", ".join(f"{by_status[s]} {s}" for s in STATUSES if s in by_status) or "none"
    sagas = [saga for _, order_sagas in snapshot for saga in order_sagas]
    running = sum(1 for saga in sagas if not saga.get("finished_at"))
    return (f"{len(snapshot)} newest orders{' (' + status + ')' if status else ''}: {counts}; "
            f"{len(sagas)} sagas, {running} running")


def saga_cells(saga, now):
    """(running mark, type, phase, last event, resent, compensated, took) of one saga."""
    if saga is None:
        return ("", "-", "", "", "", "", "")
    steps = saga.get("steps", [])
    kinds = [step.get("kind") for step in steps]
    # The last thing a step did ("finished" says less than the step that settled it).
    last = next((step for step in reversed(steps) if step.get("step")), steps[-1] if steps else {})
    event = last.get("kind", "")
    if last.get("step"):
        event = f"{last['step']} ({PARTICIPANT.get(last['step'], '?')}): {event}"
    if last.get("attempt") and last["attempt"] > 1:
        event += f" (attempt {last['attempt']})"
    start = parse_time(saga.get("created_at"))
    end = parse_time(saga.get("finished_at")) if saga.get("finished_at") else None
    if start and end:
        took = duration(end - start)
    elif start:
        took = f"{duration(now - start)} so far"
    else:
        took = "?"
    return ("" if end else "*", saga.get("type", "?"), saga.get("phase", "?"), event,
            str(kinds.count("retried")), str(kinds.count("compensated")), took)


def duration(delta):
    seconds = max(0.0, delta.total_seconds())
    if seconds < 10:
        return f"{seconds * 1000:.0f} ms"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    return f"{seconds / 3600:.1f} h"


def age(when, now):
    if when is None:
        return "?"
    seconds = max(0, int((now - when).total_seconds()))
    if seconds < 120:
        return f"{seconds} s ago"
    if seconds < 7200:
        return f"{seconds // 60} min ago"
    return when.astimezone().strftime("%Y-%m-%d %H:%M")  # local time, as the header's clock
