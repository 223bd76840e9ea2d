"""Unit tests of the saga console's pure parts (no system needed): `python3 -m unittest discover -s deploy/demo`.

`make test` runs them first; the pages against a real system are tested in
Tests/ServicesTests/SagaEndToEndTests.swift (`rejections`).
"""
import http.client, re, threading, unittest
from datetime import datetime, timedelta, timezone

import sagas_html
import sagas_web
from orderflow_api import answer_detail, timeline_rows
from saga_view import saga_cells, step_states

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
            ("reserve_stock", "compensated", 1, 1), ("validate_customer", "done", 1, 0),
            ("authorize_payment", "failed", 1, 0), ("approve_order", "pending", 0, 0),
        ])

    def test_a_timed_out_command_is_retried_then_succeeds(self):
        entries = [(0, "command_sent", "validate_customer", 1), (10, "timed_out", "validate_customer", None),
                   (11, "retried", "validate_customer", 2)]
        self.assertEqual(step_states(saga("place_order", entries))[1], ("validate_customer", "retrying", 2, 0))
        entries.append((20, "step_succeeded", "validate_customer", None))
        self.assertEqual(step_states(saga("place_order", entries))[1], ("validate_customer", "done", 2, 0))
        self.assertEqual(step_states(saga("place_order", entries[:2]))[1], ("validate_customer", "timed out", 1, 0))

    def test_a_void_in_flight_is_compensating_the_authorization(self):
        entries = [(0, "command_sent", "authorize_payment", 1), (5, "step_succeeded", "authorize_payment", None),
                   (6, "compensation_sent", "void_payment", 1)]
        self.assertIn(("authorize_payment", "compensating", 1, 1), step_states(saga("place_order", entries)))

    def test_release_stock_is_a_forward_step_of_cancel_order(self):
        entries = [(0, "command_sent", "refund_payment", 1), (5, "step_succeeded", "refund_payment", None),
                   (6, "local_run", "release_stock", 1)]
        self.assertEqual(step_states(saga("cancel_order", entries)), [
            ("refund_payment", "done", 1, 0), ("release_stock", "running", 1, 0), ("mark_cancelled", "pending", 0, 0)])

    def test_an_unknown_saga_shows_the_steps_its_timeline_names(self):
        entries = [(0, "command_sent", "ship", 1), (1, "ignored", None, None), (2, "finished", None, None)]
        self.assertEqual(step_states(saga("ship_order", entries)), [("ship", "running", 1, 0)])

    def test_a_payment_that_never_answered_is_voided_after_its_last_attempt(self):
        # The engine compensates the timed-out step itself: it may have been authorized after all.
        entries = [(0, "command_sent", "authorize_payment", 1), (10, "timed_out", "authorize_payment", 1),
                   (10, "retried", "authorize_payment", 2), (30, "timed_out", "authorize_payment", 2),
                   (30, "compensation_sent", "void_payment", 1)]
        self.assertIn(("authorize_payment", "timed out, compensating", 2, 1), step_states(saga("place_order", entries)))
        entries += [(40, "compensated", "void_payment", 1), (41, "local_run", "release_stock", 1), (41, "compensated", "release_stock", None)]
        states = step_states(saga("place_order", entries))
        self.assertIn(("authorize_payment", "timed out, compensated", 2, 1), states)
        self.assertIn(("reserve_stock", "compensated", 0, 1), states)

    def test_a_compensation_that_times_out_is_resent_and_counted(self):
        # Payments down while a void is on its way: the engine re-sends it until it is answered.
        entries = [(0, "command_sent", "authorize_payment", 1), (5, "step_succeeded", "authorize_payment", 1),
                   (6, "command_sent", "approve_order", 1), (7, "step_failed", "approve_order", 1),
                   (8, "compensation_sent", "void_payment", 1), (18, "timed_out", "void_payment", 1),
                   (18, "retried", "void_payment", 2), (38, "timed_out", "void_payment", 2), (38, "retried", "void_payment", 3)]
        self.assertIn(("authorize_payment", "compensating", 1, 3), step_states(saga("place_order", entries)))
        entries.append((40, "compensated", "void_payment", 3))
        self.assertIn(("authorize_payment", "compensated", 1, 3), step_states(saga("place_order", entries)))
        strip = sagas_html.strip(saga("place_order", entries))
        self.assertIn("undone in 3 attempts", strip)
        self.assertIn("↺×3", strip)

    def test_a_cancellation_halted_past_its_pivot_shows_the_failed_step_and_nothing_undone(self):
        # The refund is CancelOrder's pivot: mark_cancelled failing after it halts the saga.
        entries = [(0, "started", None, None), (1, "command_sent", "refund_payment", 1), (5, "step_succeeded", "refund_payment", 1),
                   (6, "local_run", "release_stock", 1), (6, "step_succeeded", "release_stock", 1),
                   (6, "local_run", "mark_cancelled", 1), (6, "step_failed", "mark_cancelled", 1), (6, "finished", None, None)]
        halted = dict(saga("cancel_order", entries, finished_ms=6), phase="halted")
        self.assertEqual(step_states(halted), [
            ("refund_payment", "done", 1, 0), ("release_stock", "done", 1, 0), ("mark_cancelled", "failed", 1, 0)])
        mark, kind, phase, event, resent, compensated, took = saga_cells(halted, START)
        self.assertEqual((mark, phase, compensated), ("", "halted", "0"))
        self.assertTrue(event.startswith("mark_cancelled") and event.endswith("step_failed"), event)

    def test_a_failed_compensation_is_not_shown_in_progress(self):
        entries = [(0, "command_sent", "authorize_payment", 1), (5, "step_succeeded", "authorize_payment", 1),
                   (6, "command_sent", "approve_order", 1), (7, "step_failed", "approve_order", 1),
                   (8, "compensation_sent", "void_payment", 1), (9, "step_failed", "void_payment", 1)]
        states = step_states(saga("place_order", entries))
        self.assertIn(("authorize_payment", "compensation failed", 1, 1), states)
        self.assertIn('class="step compensation-failed"', sagas_html.strip(saga("place_order", entries)))


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
        self.assertNotIn("data-settled", sagas_html.order_live({"id": "o", "status": "pending"}, [running], START))
        self.assertIn("data-settled", sagas_html.order_live({"id": "o", "status": "rejected"}, [DECLINED], START))
        # Sagas read as finished while the order read a moment before says otherwise: keep refreshing.
        self.assertNotIn("data-settled", sagas_html.order_live({"id": "o", "status": "pending"}, [DECLINED], START))

    def test_the_health_line_names_what_is_down_and_how_to_bring_it_back(self):
        up = sagas_html.health([("gateway", "up"), ("payments", "up")])
        self.assertIn('class="part up">payments<', up)
        self.assertNotIn("make revive", up)
        down = sagas_html.health([("gateway", "up"), ("payments", "down")])
        self.assertIn('class="part down">payments down<', down)
        self.assertIn("make revive", down)

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


class AccessTests(unittest.TestCase):
    """The web console's gate, on a real server of its own on a free port; every request here is
    refused or answered before the console would call the system, so none is needed."""

    @classmethod
    def setUpClass(cls):
        cls.server = sagas_web.ConsoleServer(0, console=None, lab=None, limit=15)
        cls.thread = threading.Thread(target=cls.server.serve_forever, daemon=True)
        cls.thread.start()
        cls.port = cls.server.server_address[1]

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def send(self, method, path, headers=None, body=None):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(method, path, body=body, headers=headers or {})
            answer = connection.getresponse()
            return answer.status, {k.lower(): v for k, v in answer.getheaders()}, answer.read().decode()
        finally:
            connection.close()

    def cookie(self):
        return {"Cookie": f"{sagas_web.COOKIE}={self.server.access_key}"}

    def test_the_printed_key_becomes_a_strict_http_only_cookie(self):
        status, headers, _ = self.send("GET", f"/lab?key={self.server.access_key}")
        self.assertEqual((status, headers.get("location")), (303, "/lab"))
        cookie = headers.get("set-cookie", "")
        self.assertTrue(cookie.startswith(f"{sagas_web.COOKIE}={self.server.access_key};"), cookie)
        for attribute in ("HttpOnly", "SameSite=Strict", "Path=/"):
            self.assertIn(attribute, cookie)

    def test_without_the_cookie_nothing_but_style_and_script(self):
        for path in ("/", "/lab", "/orders/01a20a4b-8e2b-709b-bd8d-8e1f4e5e11e6", f"/?key=not-{self.server.access_key}"):
            status, headers, body = self.send("GET", path)
            self.assertEqual(status, 401, path)
            self.assertIn("make sagas-web", body)
            self.assertIn("script-src 'self'", headers.get("content-security-policy", ""))
        self.assertEqual(self.send("POST", "/lab/faults", {"Content-Type": "application/x-www-form-urlencoded"},
                                   f"csrf={self.server.form_token}&decline_rate=1")[0], 401)
        self.assertEqual(self.send("GET", "/static/console.css")[0], 200)

    def test_another_host_name_is_refused_even_with_the_cookie(self):
        status, _, _ = self.send("GET", "/", {"Host": f"attacker.example:{self.port}", **self.cookie()})
        self.assertEqual(status, 403)

    def test_forms_need_the_pages_token_and_a_bounded_length(self):
        form = {"Content-Type": "application/x-www-form-urlencoded", **self.cookie()}
        self.assertEqual(self.send("POST", "/lab/faults", form, "csrf=forged&decline_rate=1")[0], 403)
        self.assertEqual(self.send("POST", "/lab/faults", {**form, "Origin": "http://attacker.example"},
                                   f"csrf={self.server.form_token}&decline_rate=1")[0], 403)
        self.assertEqual(self.send("POST", "/lab/faults", {**form, "Content-Length": "-1"})[0], 413)
        self.assertEqual(self.send("POST", "/lab/faults", form, "x" * 5000)[0], 413)


if __name__ == "__main__":
    unittest.main()
