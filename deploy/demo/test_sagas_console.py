"""Unit tests of the saga console's pure parts (no system needed): `python3 -m unittest discover -s deploy/demo`.

`make test` runs them first; the pages against a real system are tested in
Tests/ServicesTests/SagaEndToEndTests.swift (`rejections`).
"""
import re, unittest
from datetime import datetime, timedelta, timezone

import sagas_html
import sagas_web
from orderflow_api import answer_detail, step_states, timeline_rows

START = datetime(2026, 11, 23, 12, 0, 0, tzinfo=timezone.utc)


def at(ms):
    return (START + timedelta(milliseconds=ms)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def saga(kind, entries, finished_ms=None):
    """A saga as `GET /api/v1/orders/{id}/saga` answers it; entries are (ms, kind, step, attempt)."""
    return {
        "id": "s-1", "type": kind, "phase": "x", "created_at": at(0),
        "finished_at": at(finished_ms) if finished_ms is not None else None,
        "steps": [{"at": at(ms), "kind": k, "step": step, "attempt": attempt} for ms, k, step, attempt in entries],
    }


DECLINED = saga("place_order", [
    (0, "started", None, None), (1, "local_run", "reserve_stock", 1), (1, "step_succeeded", "reserve_stock", None),
    (2, "command_sent", "validate_customer", 1), (40, "step_succeeded", "validate_customer", None),
    (41, "command_sent", "authorize_payment", 1), (80, "step_failed", "authorize_payment", None),
    (81, "local_run", "release_stock", 1), (81, "compensated", "release_stock", None), (82, "finished", None, None),
], finished_ms=70)  # the saga row is stamped before its last entries, as seen on a real system


class StepStatesTests(unittest.TestCase):
    def test_a_declined_order_shows_the_failure_and_the_undone_reservation(self):
        self.assertEqual(step_states(DECLINED), [
            ("reserve_stock", "compensated", 1), ("validate_customer", "done", 1),
            ("authorize_payment", "failed", 1), ("approve_order", "pending", 0),
        ])

    def test_a_timed_out_command_is_retried_then_succeeds(self):
        entries = [(0, "command_sent", "validate_customer", 1), (10, "timed_out", "validate_customer", None),
                   (11, "retried", "validate_customer", 2)]
        self.assertEqual(step_states(saga("place_order", entries))[1], ("validate_customer", "retrying", 2))
        entries.append((20, "step_succeeded", "validate_customer", None))
        self.assertEqual(step_states(saga("place_order", entries))[1], ("validate_customer", "done", 2))
        self.assertEqual(step_states(saga("place_order", entries[:2]))[1], ("validate_customer", "timed out", 1))

    def test_a_void_in_flight_is_compensating_the_authorization(self):
        entries = [(0, "command_sent", "authorize_payment", 1), (5, "step_succeeded", "authorize_payment", None),
                   (6, "compensation_sent", "void_payment", 1)]
        self.assertIn(("authorize_payment", "compensating", 1), step_states(saga("place_order", entries)))

    def test_release_stock_is_a_forward_step_of_cancel_order(self):
        entries = [(0, "command_sent", "refund_payment", 1), (5, "step_succeeded", "refund_payment", None),
                   (6, "local_run", "release_stock", 1)]
        self.assertEqual(step_states(saga("cancel_order", entries)), [
            ("refund_payment", "done", 1), ("release_stock", "running", 1), ("mark_cancelled", "pending", 0)])

    def test_an_unknown_saga_shows_the_steps_its_timeline_names(self):
        entries = [(0, "command_sent", "ship", 1), (1, "ignored", "ship", None), (2, "finished", None, None)]
        self.assertEqual(step_states(saga("ship_order", entries)), [("ship", "running", 1)])


class PageTests(unittest.TestCase):
    def test_values_from_the_system_are_escaped(self):
        order = {"id": '"><script>x</script>', "status": "rejected", "created_at": at(0),
                 "rejection_reason": "<img src=x onerror=alert(1)>", "total": {"amount_minor": 1, "currency": "<b>"}}
        hostile = saga("<i>", [(0, "command_sent", "<script>", 1)])
        for html in (sagas_html.overview([(order, [hostile])], None, 15, START),
                     sagas_html.order_live(order, [hostile], START)):
            self.assertNotIn("<script>", html)
            self.assertNotIn("<img", html)
            self.assertNotIn("<i>", html)
            self.assertIn("&lt;script&gt;", html)

    def test_the_time_bar_spans_every_entry(self):
        bar = sagas_html.time_bar(DECLINED, START)
        xs = [float(x) for x in re.findall(r'class="tick [a-z_]+" x1="([0-9.]+)"', bar)]
        self.assertEqual(len(xs), len(DECLINED["steps"]))
        self.assertEqual(max(xs), 1000.0)  # the last entry (82 ms) ends the bar, not finished_at (70 ms)
        self.assertIn("82 ms", bar)

    def test_a_running_saga_is_measured_to_now(self):
        running = saga("place_order", [(0, "command_sent", "validate_customer", 1)])
        bar = sagas_html.time_bar(running, START + timedelta(seconds=2))
        self.assertIn("2000 ms so far", bar)
        self.assertNotIn("data-settled", sagas_html.order_live({"id": "o"}, [running], START))
        self.assertIn("data-settled", sagas_html.order_live({"id": "o"}, [DECLINED], START))

    def test_timeline_rows_say_where_each_command_went(self):
        rows = timeline_rows(DECLINED)
        self.assertEqual(rows[3][1:4], ("validate_customer", "send command → users", ""))
        self.assertEqual(rows[7][1:3], ("release_stock", "run locally"))


class FormTests(unittest.TestCase):
    def test_numbers_stay_numbers_and_the_rest_is_passed_on_for_the_api_to_name(self):
        self.assertEqual(sagas_web.number("1"), 1)
        self.assertEqual(sagas_web.number("0.25"), 0.25)
        self.assertEqual(sagas_web.number("lots"), "lots")

    def test_an_api_error_names_its_fields(self):
        problem = {"title": "Bad Request", "detail": "invalid body", "errors": [{"field": "decline_rate", "message": "at most 1"}]}
        self.assertEqual(answer_detail(problem), "invalid body (decline_rate: at most 1)")
        self.assertEqual(answer_detail({"title": "Forbidden"}), "Forbidden")
        self.assertEqual(answer_detail("plain"), "plain")


if __name__ == "__main__":
    unittest.main()
