"""Webhook notifications of every stop and start (SPEC §11): JSON a Slack incoming webhook
accepts (`text`) with the action's fields beside it, posted off the caller's thread.

`action(ctx, event)` is what the reconciler (and the CLI's sleep / wake) call: it counts the
action in Prometheus and hands the event to the running Notifier, which posts it to every
configured URL, retrying 5xx answers, timeouts and refused connections with capped backoff. A
slow or dead hook never delays an action: the queue is bounded and a full one drops the event
(counted).

Webhook URLs are secrets (Slack's hold the token in their path): they are never logged, put in
an exception or an answer. Logs name a hook by its fingerprint, `host#hash`.
"""

from __future__ import annotations

import hashlib
import json
import logging
import queue
import random
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from pydantic import SecretStr

from dbsnooze.observability import ACTIONS, WEBHOOK_DELIVERIES

if TYPE_CHECKING:
    from dbsnooze.context import Context

log = logging.getLogger(__name__)

QUEUE_SIZE = 1000
USER_AGENT = "dbsnooze"
RETRYABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})
_SYMBOLS = {"done": "✅", "failed": "❌", "dry_run": "📝", "skipped": "⏭️"}


@dataclass(frozen=True, slots=True)
class ActionEvent:
    """One thing the reconciler (or a person) did or would do to an instance or cluster."""

    instance: str  # its name (provider id)
    action: str  # "stop" | "start" | "keep_awake" ...
    outcome: str  # "done" | "failed" | "dry_run" | "skipped"
    reason: str  # why, in words ("schedule nights: sleep window", "busy at sleep time"...)
    actor: str  # which schedule or which user ("schedule:nights", "user:alice")
    at: datetime
    instance_id: int | None = None
    unit: str = "instance"  # or "cluster"
    provider: str = ""
    region: str = ""
    error: str | None = None  # what the cloud said, when it failed

    def payload(self) -> dict[str, Any]:
        """Slack's `text` first, then every field for other receivers."""
        fields = {**asdict(self), "at": self.at.isoformat()}
        return {"text": self.text(), **fields}

    def text(self) -> str:
        symbol = _SYMBOLS.get(self.outcome, "•")
        what = f"{self.action} {self.unit} {self.instance}"
        line = f"{symbol} dbsnooze: {what}: {self.outcome.replace('_', ' ')} ({self.reason})"
        failure = f": {self.error}" if self.error else ""
        return f"{line}{failure}, by {self.actor} at {self.at.isoformat()}"


def action(ctx: Context, event: ActionEvent) -> None:
    """Count the action and notify the configured webhooks (never blocks, never raises)."""
    ACTIONS.labels(event.action, event.outcome).inc()
    ctx.notify(event)


# --- URLs ----------------------------------------------------------------------------------------


def webhook_url_problem(url: str) -> str | None:
    """Why `url` cannot be a webhook, in words that never repeat it; None if it can."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 -- raises ValueError for a port that is not a number in range
    except ValueError:
        return "is not a valid URL"
    if parts.scheme not in ("http", "https"):
        return "must be an http:// or https:// URL"
    if not parts.hostname:
        return "needs a host"
    if any(char.isspace() for char in url):
        return "must not contain spaces"
    return None


def fingerprint(url: str) -> str:
    """What logs may say of a webhook: its host and a short hash of the whole URL."""
    host = urlsplit(url).hostname or "?"
    return f"{host}#{hashlib.sha256(url.encode()).hexdigest()[:8]}"


# --- delivery ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_attempts: int = 5
    timeout_seconds: float = 5.0
    base_delay: float = 1.0
    max_delay: float = 30.0

    def delay(self, attempt: int, jitter: float) -> float:
        return min(self.max_delay, self.base_delay * 2.0 ** (attempt - 1)) * (0.5 + jitter / 2)


class _Retryable(Exception):
    """A failed attempt worth repeating; its text names no URL."""


class _Refused(Exception):
    """A failed attempt not worth repeating (4xx, a redirect)."""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # a webhook that redirects is refused: the payload goes where configured


_OPENER = urllib.request.build_opener(_NoRedirect)


def post_json(url: str, body: bytes, timeout: float) -> int:
    """POST `body`; the HTTP status. Raises _Retryable or _Refused, without the URL in them."""
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": USER_AGENT},
    )
    try:
        with _OPENER.open(request, timeout=timeout) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        if exc.code in RETRYABLE_STATUS:
            raise _Retryable(f"HTTP {exc.code}") from None
        raise _Refused(f"HTTP {exc.code}") from None
    except (urllib.error.URLError, OSError) as exc:  # refused, reset, timed out, no such host
        reason = getattr(exc, "reason", exc)
        raise _Retryable(type(reason).__name__) from None


class Notifier:
    """One thread posting queued events to every webhook, in order."""

    def __init__(
        self,
        urls: Sequence[SecretStr],
        policy: RetryPolicy = RetryPolicy(),
        *,
        post: Callable[[str, bytes, float], int] = post_json,
        sleep: Callable[[float], bool] | None = None,
        jitter: Callable[[], float] = random.random,
        queue_size: int = QUEUE_SIZE,
    ) -> None:
        self._urls = tuple(urls)
        self._policy = policy
        self._post = post
        self._jitter = jitter
        self._stopping = threading.Event()
        # a wait that returns True when the notifier stops: backoff ends at shutdown
        self._sleep = sleep if sleep is not None else self._stopping.wait
        self._queue: queue.Queue[ActionEvent | None] = queue.Queue(queue_size)
        self._thread = threading.Thread(target=self._run, name="dbsnooze-notify", daemon=True)

    @property
    def patience(self) -> float:
        """Seconds one event's deliveries may take at most, every retry included."""
        policy = self._policy
        waits = sum(policy.delay(a, 1.0) for a in range(1, policy.max_attempts))
        return len(self._urls) * (policy.max_attempts * policy.timeout_seconds + waits)

    @property
    def hooks(self) -> tuple[str, ...]:
        """The configured hooks' fingerprints (safe to show)."""
        return tuple(fingerprint(url.get_secret_value()) for url in self._urls)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0, patient: bool = False) -> None:
        """Deliver what is queued, then end the thread; unless `patient`, failed deliveries
        are not retried any more (a service shutting down does not wait out backoffs)."""
        if not patient:
            self._stopping.set()
        with suppress(queue.Full):
            self._queue.put(None, timeout=timeout)
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._stopping.set()

    def submit(self, event: ActionEvent) -> None:
        if not self._urls:
            return
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            WEBHOOK_DELIVERIES.labels("dropped").inc(len(self._urls))
            log.warning("webhook queue full: notification dropped", extra={"event": event.action})

    def _run(self) -> None:
        while (event := self._queue.get()) is not None:
            body = json.dumps(event.payload()).encode()
            for url in self._urls:
                self._deliver(url.get_secret_value(), body)

    def _deliver(self, url: str, body: bytes) -> None:
        hook = fingerprint(url)
        for attempt in range(1, self._policy.max_attempts + 1):
            try:
                self._post(url, body, self._policy.timeout_seconds)
            except _Refused as exc:
                return self._failed(hook, attempt, str(exc))
            except _Retryable as exc:
                last = attempt == self._policy.max_attempts
                if last or self._sleep(self._policy.delay(attempt, self._jitter())):
                    return self._failed(hook, attempt, str(exc))
                WEBHOOK_DELIVERIES.labels("retried").inc()
                continue
            WEBHOOK_DELIVERIES.labels("delivered").inc()
            log.info("webhook delivered", extra={"hook": hook, "attempts": attempt})
            return None
        return None

    def _failed(self, hook: str, attempts: int, why: str) -> None:
        WEBHOOK_DELIVERIES.labels("failed").inc()
        log.warning(
            "webhook delivery failed", extra={"hook": hook, "attempts": attempts, "why": why}
        )


def from_settings(ctx: Context) -> Notifier:
    settings = ctx.settings
    policy = RetryPolicy(settings.webhook_max_attempts, settings.webhook_timeout_seconds)
    return Notifier(settings.webhook_urls, policy)


@contextmanager
def running(ctx: Context) -> Iterator[Notifier]:
    """A notifier for the context while the block runs (e.g. a CLI command that acts): what the
    block notified is delivered before it returns."""
    notifier = from_settings(ctx)
    notifier.start()
    previous, ctx.notify = ctx.notify, notifier.submit
    try:
        yield notifier
    finally:
        ctx.notify = previous
        notifier.stop(timeout=notifier.patience, patient=True)
