"""The reconciler on Cloud SQL, through the real client over HTTP against the project's fake: a
stop that Cloud SQL refuses because another operation runs on the instance (a backup) is waited
out, never a failure, and lands once that operation is done."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.gcpfake import GcpFake
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import schedules
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings as ScheduleSettings
from dbsnooze.store.tables import ActionRow, EventRow
from gcpdata import connect
from gcphelp import EMAIL, PROJECT, add_instances, fast_sessions, gcp_env
from metricshelp import Clock
from migrated import migrate

__all__ = ["gcp_env"]  # fixtures used by name

NIGHTS = (Window(tuple(range(7)), time(19), time(7)),)
EVENING = datetime(2026, 11, 18, 18, 0, tzinfo=UTC)


@pytest.fixture()
def world(settings: Settings, gcp_env: Path) -> Iterator[tuple[Context, GcpFake, Clock]]:
    clock = Clock(EVENING)
    with GcpFake(clock=clock) as fake:
        # one attempt allowed: any failure that counted would be final at once
        ctx = build_context(settings.model_copy(update={"action_max_attempts": 1}), clock)
        ctx.gcp = fast_sessions()
        migrate(ctx.engine)
        try:
            yield ctx, fake, clock
        finally:
            ctx.close()


def test_a_stop_refused_while_a_backup_runs_is_waited_out_and_lands_after_it(
    world: tuple[Context, GcpFake, Clock],
) -> None:
    ctx, fake, clock = world
    add_instances(fake, PROJECT, {"dev": ("POSTGRES_16", "europe-west1")})
    dev = connect(ctx, fake, fake.service_account(EMAIL, [PROJECT]))[f"{PROJECT}:dev"]
    with transaction(ctx.sessions) as session:
        nights = ScheduleSettings(ScheduleSpec("UTC", NIGHTS), dry_run=False)
        schedules.create(session, "nights", nights, "user:ann", clock(), (dev,))
    clock.now = EVENING.replace(hour=19, minute=5)
    fake.sql.start_operation(
        PROJECT, "dev", "BACKUP_VOLUME", until=clock.now + timedelta(minutes=12)
    )

    results = {}
    for _ in range(20):
        (outcome,) = reconcile.run_pass(ctx, "w1").outcomes
        results[clock.now.strftime("%H:%M")] = outcome.result
        clock.advance(timedelta(minutes=1))

    assert results["19:05"] == "retry" and results["19:06"] == "retry"  # 1, 2, 4, 5 min apart
    assert [at for at, r in results.items() if r == "done"] == ["19:17"]
    assert fake.sql.get(PROJECT, "dev")["settings"]["activationPolicy"] == "NEVER"
    refused = fake.faults.requests("/instances/dev", "PATCH")[:-1]
    assert len(refused) == list(results.values()).count("retry") == 4
    with ctx.sessions() as session:
        (action,) = session.scalars(select(ActionRow))
        events = list(
            session.scalars(select(EventRow.action).where(EventRow.action.like("action.%")))
        )
    assert (action.state, action.attempts) == ("done", 5)  # past the 1 attempt allowed
    assert (action.error_code, events) == ("operation_in_progress", ["action.retry", "action.done"])
    assert "another operation is running" in (action.error_message or "")
