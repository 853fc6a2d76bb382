"""Webhook notifications against a loopback receiver over HTTP: Slack-compatible JSON, retries
on 5xx, timeouts and refused connections, never on the caller's thread, and the URL (a secret:
Slack's hold a token in the path) never in a log line, an exception or a setting's repr."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import REGISTRY
from pydantic import SecretStr, ValidationError

from dbsnooze import notify
from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context
from dbsnooze.notify import ActionEvent, Notifier, RetryPolicy, fingerprint
from loopback import LoopbackServer

TOKEN_PATH = "/services/T0SECRET/B0SECRET/xoxTOKENabcdef123456"
AT = datetime(2026, 11, 18, 21, 0, tzinfo=UTC)
EVENT = ActionEvent(
    instance="orders-db",
    action="stop",
    outcome="done",
    reason="schedule nights: sleep window",
    actor="schedule:nights",
    at=AT,
    instance_id=7,
    provider="aws",
    region="eu-west-1",
)
QUICK = RetryPolicy(max_attempts=4, timeout_seconds=0.5, base_delay=0.01, max_delay=0.05)


class Receiver(LoopbackServer):
    """Answers each POST with the next scripted status (then 200), after an optional delay;
    records every body it read."""

    def __init__(self, statuses: list[int] | None = None, delays: list[float] | None = None):
        self.statuses = list(statuses or [])
        self.delays = list(delays or [])
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        self.hold = threading.Event()
        self.hold.set()
        super().__init__(self._handler())

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        me = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                me.hold.wait(10)
                me.paths.append(self.path)
                me.bodies.append(json.loads(body))
                if me.delays:
                    time.sleep(me.delays.pop(0))
                status = me.statuses.pop(0) if me.statuses else 200
                try:
                    self.send_response(status)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                except OSError:
                    pass  # the client gave up waiting

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _count(outcome: str) -> float:
    return (
        REGISTRY.get_sample_value("dbsnooze_webhook_deliveries_total", {"outcome": outcome}) or 0.0
    )


def _logged(caplog: pytest.LogCaptureFixture) -> str:
    """Every record's message and every field a formatter may print (extras included)."""
    return "\n".join(f"{r.getMessage()} {vars(r)}" for r in caplog.records)


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> bool:
        self.append(seconds)
        return False  # not stopping


@pytest.fixture()
def receiver() -> Iterator[Receiver]:
    with Receiver() as server:
        yield server


def _notifier(*urls: str, sleeps: Sleeps | None = None) -> Notifier:
    return Notifier(
        [SecretStr(u) for u in urls],
        QUICK,
        sleep=sleeps if sleeps is not None else Sleeps(),
        jitter=lambda: 1.0,
    )


def _deliver(notifier: Notifier, *events: ActionEvent) -> None:
    notifier.start()
    for event in events:
        notifier.submit(event)
    notifier.stop(timeout=30, patient=True)


def test_an_event_is_slack_compatible_json_with_its_fields(receiver: Receiver) -> None:
    before = _count("delivered")

    _deliver(_notifier(receiver.url + TOKEN_PATH), EVENT)

    [body] = receiver.bodies
    assert body["text"].startswith("✅ dbsnooze: stop instance orders-db: done")
    assert "by schedule:nights at 2026-11-18T21:00:00+00:00" in body["text"]
    assert {k: body[k] for k in ("instance", "action", "outcome", "reason", "actor", "at")} == {
        "instance": "orders-db",
        "action": "stop",
        "outcome": "done",
        "reason": "schedule nights: sleep window",
        "actor": "schedule:nights",
        "at": "2026-11-18T21:00:00+00:00",
    }
    assert receiver.paths == [TOKEN_PATH]
    assert _count("delivered") == before + 1


def test_server_errors_are_retried_with_backoff_and_the_url_is_never_logged(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    sleeps, retried = Sleeps(), _count("retried")
    with Receiver(statuses=[503, 500]) as receiver:
        url = receiver.url + TOKEN_PATH
        _deliver(_notifier(url, sleeps=sleeps), EVENT)

    assert len(receiver.bodies) == 3 and receiver.bodies[0] == receiver.bodies[2]
    assert sleeps == [0.01, 0.02]
    assert _count("retried") == retried + 2
    logged = _logged(caplog)
    assert fingerprint(url) in logged and "127.0.0.1#" in logged
    for secret in (url, TOKEN_PATH, "xoxTOKEN", "B0SECRET"):
        assert secret not in logged


def test_a_timeout_is_retried(caplog: pytest.LogCaptureFixture) -> None:
    with Receiver(delays=[2.0]) as receiver:
        _deliver(_notifier(receiver.url + TOKEN_PATH), EVENT)

    assert len(receiver.bodies) == 2  # the slow answer was given up on, the next one taken


def test_a_refused_connection_is_retried_then_failed_without_the_url_anywhere(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with Receiver() as gone:
        url = gone.url + TOKEN_PATH  # closed once the block ends: connections are refused
    caplog.set_level(logging.DEBUG)
    failed, sleeps = _count("failed"), Sleeps()

    _deliver(_notifier(url, sleeps=sleeps), EVENT)
    with pytest.raises(Exception) as caught:
        notify.post_json(url, b"{}", 1.0)

    assert len(sleeps) == QUICK.max_attempts - 1
    assert _count("failed") == failed + 1
    assert "webhook delivery failed" in caplog.text and "ConnectionRefusedError" in _logged(caplog)
    assert "xoxTOKEN" not in _logged(caplog) and "xoxTOKEN" not in str(caught.value)
    assert "xoxTOKEN" not in repr(caught.value) and caught.value.__cause__ is None


def test_a_client_error_is_not_retried(caplog: pytest.LogCaptureFixture) -> None:
    failed = _count("failed")
    with Receiver(statuses=[404]) as receiver:
        _deliver(_notifier(receiver.url + TOKEN_PATH), EVENT)

    assert len(receiver.bodies) == 1 and _count("failed") == failed + 1
    assert "HTTP 404" in _logged(caplog) and "xoxTOKEN" not in _logged(caplog)


def test_every_hook_gets_every_event_in_order(receiver: Receiver) -> None:
    with Receiver() as other:
        later = ActionEvent("orders-db", "start", "failed", "wake", "user:alice", AT, error="boom")
        _deliver(_notifier(receiver.url + "/a", other.url + "/b"), EVENT, later)

    for server in (receiver, other):
        assert [b["action"] for b in server.bodies] == ["stop", "start"]
    assert (
        receiver.bodies[1]["text"].startswith("❌")
        and ": boom, by user:alice" in receiver.bodies[1]["text"]
    )


def test_a_slow_hook_never_delays_the_caller(ctx: Context, receiver: Receiver) -> None:
    receiver.hold.clear()  # the hook answers nothing until released
    notifier = _notifier(receiver.url + TOKEN_PATH)
    notifier.start()
    ctx.notify = notifier.submit
    actions = REGISTRY.get_sample_value(
        "dbsnooze_actions_total", {"action": "stop", "outcome": "done"}
    )

    started = time.monotonic()
    for _ in range(3):
        notify.action(ctx, EVENT)
    took = time.monotonic() - started
    receiver.hold.set()
    notifier.stop(timeout=30, patient=True)

    assert took < 0.2 and len(receiver.bodies) == 3
    after = REGISTRY.get_sample_value(
        "dbsnooze_actions_total", {"action": "stop", "outcome": "done"}
    )
    assert after == (actions or 0) + 3


def test_a_full_queue_drops_and_counts_instead_of_blocking(receiver: Receiver) -> None:
    receiver.hold.clear()
    notifier = Notifier([SecretStr(receiver.url)], QUICK, sleep=Sleeps(), queue_size=1)
    notifier.start()
    dropped = _count("dropped")

    for _ in range(5):
        notifier.submit(EVENT)

    assert _count("dropped") >= dropped + 3  # one in flight, one queued, the rest dropped
    receiver.hold.set()
    notifier.stop(timeout=30, patient=True)


def test_webhook_urls_are_validated_at_load_and_never_repeated() -> None:
    good = Settings(webhook_urls=f"https://hooks.example.com{TOKEN_PATH}, http://127.0.0.1:9/x")  # type: ignore[arg-type]

    assert [u.get_secret_value() for u in good.webhook_urls][1] == "http://127.0.0.1:9/x"
    assert "xoxTOKEN" not in repr(good) and "xoxTOKEN" not in str(good.model_dump())
    for bad, problem in (
        ("ftp://files.example.com/xoxTOKEN", "webhook 1 must be an http:// or https:// URL"),
        ("https:///xoxTOKEN", "webhook 1 needs a host"),
        ("https://ok.example.com, javascript:xoxTOKEN", "webhook 2 must be an http"),
        ("https://h.example.com:99999/xoxTOKEN", "webhook 1 is not a valid URL"),
    ):
        with pytest.raises(ValidationError) as caught:
            Settings(webhook_urls=bad)  # type: ignore[arg-type]
        assert problem in str(caught.value)
        assert "xoxTOKEN" not in str(caught.value)


def test_the_service_runs_a_notifier_while_it_serves(ctx: Context, receiver: Receiver) -> None:
    settings = ctx.settings.model_copy(
        update={"webhook_urls": (SecretStr(receiver.url + TOKEN_PATH),), "run_worker": False}
    )
    ctx.settings = settings
    with TestClient(create_app(settings, ctx)):
        notify.action(ctx, EVENT)
    # the app's shutdown delivered what was queued (one attempt each: the hook answered)

    assert [b["instance"] for b in receiver.bodies] == ["orders-db"]
    notify.action(ctx, EVENT)  # stopped: nothing posted, nothing raised
    assert len(receiver.bodies) == 1


def test_a_command_that_acts_runs_a_notifier_and_waits_for_its_retries(
    ctx: Context,
) -> None:
    with Receiver(statuses=[503]) as receiver:
        ctx.settings = ctx.settings.model_copy(
            update={"webhook_urls": (SecretStr(receiver.url),), "webhook_timeout_seconds": 1.0}
        )
        with notify.running(ctx) as notifier:
            notify.action(ctx, EVENT)
            assert notifier.hooks == (fingerprint(receiver.url),)
        delivered = len(receiver.bodies)  # by the end of the block, the retry included

    assert delivered == 2
