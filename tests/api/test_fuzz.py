"""schemathesis against a live server on each store: no server error, every answer as documented.

The server runs with a token, a worker and the demo fleet discovered through moto, so generated
ids exist and requests reach the store and the cloud edge. The run is reproducible: a fixed seed,
no example database. Nothing leaves loopback: the autouse fixture points every proxy variable at
a dead port, and endpoint URLs that are not http(s) to a valid host are refused before use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import schemathesis
from pydantic import SecretStr
from schemathesis.engine import Status, events

from dbsnooze.config import Settings
from dbsnooze.context import build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.demo.fleet import seed
from dbsnooze.demo.runner import register_demo_account
from dbsnooze.discovery import discover
from liveserver import Served, serve
from migrated import migrate

TOKEN = "fuzz-test-token-6c1e0a9b52d84f37a1"
SEED = 20261118
MIN_REQUESTS = 2_000
MAX_EXAMPLES = 60  # per operation and phase; with coverage and stateful, ~2,500 requests a store
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "unsupported_method",
    "allow_header_conformance",
    "ignored_auth",
)
BACKFILL_ONE = "/api/v1/instances/{instance_id}/metrics/backfill"


def fuzz_config(url: str) -> schemathesis.Config:
    return schemathesis.Config.from_dict(
        {
            "seed": SEED,
            "base-url": url,
            "headers": {"Authorization": f"Bearer {TOKEN}"},
            "workers": 1,
            "suppress-health-check": ["all"],
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none", "mode": "all"},
            "checks": {"enabled": False, **{name: {"enabled": True} for name in CHECKS}},
            # wait=true blocks until the job ends: its answer is tested in test_api_metrics
            "operations": [{"include-path": BACKFILL_ONE, "parameters": {"wait": False}}],
        }
    )


@dataclass
class Outcome:
    requests: int = 0
    failures: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def record(self, event: events.EngineEvent) -> None:
        if isinstance(event, events.ScenarioFinished | events.FuzzScenarioFinished):
            self._scenario(event.recorder)
        elif isinstance(event, events.NonFatalError | events.FatalError):
            self.errors.append(f"{type(event.value).__name__}: {event.value}")

    def _scenario(self, recorder: Any) -> None:
        self.requests += sum(1 for i in recorder.interactions.values() if i.response is not None)
        for case_id, checks in recorder.checks.items():
            for check in checks:
                if check.status == Status.FAILURE:
                    self.failures.append(_failure(recorder, case_id, check))


def _failure(recorder: Any, case_id: str, check: Any) -> str:
    interaction = recorder.interactions.get(case_id)
    request = f"{interaction.request.method} {interaction.request.uri}" if interaction else "?"
    status = interaction.response.status_code if interaction and interaction.response else "-"
    title = check.failure_info.failure.title if check.failure_info else ""
    return f"{check.name}: {request} -> {status} {title}"


def fuzz(url: str) -> Outcome:
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json", config=fuzz_config(url))
    outcome = Outcome()
    for event in schemathesis.engine.from_schema(schema).execute():
        outcome.record(event)
    return outcome


@pytest.fixture()
def live(settings: Settings, moto: Emulator) -> Iterator[Served]:
    """A server with a token and a worker over the discovered demo fleet (two days of history)."""
    seed(moto.endpoint_url, datetime.now(UTC), days=2)
    locked = settings.model_copy(
        update={"api_token": SecretStr(TOKEN), "auto_backfill": False, "cloud_max_attempts": 1}
    )
    ctx = build_context(locked)
    migrate(ctx.engine)
    register_demo_account(ctx, moto.endpoint_url)
    discover(ctx, "fuzz-test")
    try:
        with serve(locked, ctx) as served:
            yield served
    finally:
        ctx.close()


@pytest.mark.timeout(900)
def test_fuzzing_finds_no_server_error_and_every_answer_is_documented(live: Served) -> None:
    outcome = fuzz(live.url)
    assert outcome.errors == []
    assert outcome.failures == []
    assert outcome.requests >= MIN_REQUESTS
