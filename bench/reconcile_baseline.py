"""The reconciler pass as it was before the fleet-scale fixes, kept callable so that
bench.reconcile times both in one process, runs interleaved:

1. RDS's ISO 8601 times went through botocore's `parse_timestamp` (dateutil), about 50 us each,
   two per described instance (now `datetime.fromisoformat`);
2. each instance's schedule's wish was worked out once per instance (now once per schedule);
3. the pass renewed its lease in a transaction of its own before every action (now once a
   tenth of the hold has passed).

Everything else is the product's own code: `reconcile.run_pass` with these three swapped in.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.utils import parse_timestamp
from sqlalchemy.orm import Session

from dbsnooze.context import Context
from dbsnooze.providers.aws import parsing
from dbsnooze.schedules import reconcile
from dbsnooze.schedules.decide import Want
from dbsnooze.schedules.wants import want_of
from dbsnooze.store import leases, schedules
from dbsnooze.store.db import transaction


def timestamp(value: Any) -> datetime:
    """The timestamp parser before: epoch numbers in UTC, any text through botocore's."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    parsed: datetime = parse_timestamp(value)
    return parsed


def schedule_wants(
    session: Session, now: datetime, instance_ids: Sequence[int] | None = None
) -> dict[int, Want]:
    found = schedules.assignments(session, instance_ids)
    wishes = {a.schedule_id: want_of(a, now) for a in found.values() if a.enabled}
    return {i: wishes[a.schedule_id] for i, a in found.items() if a.schedule_id in wishes}


def tick(ctx: Context, owner: str) -> reconcile.PassReport | None:
    hold = timedelta(seconds=ctx.settings.reconcile_interval_seconds * 0.9)
    now = ctx.clock()
    with transaction(ctx.sessions) as session:
        if not leases.acquire(session, reconcile.LEASE, owner, now, now + hold):
            return None

    def still_mine() -> bool:
        moment = ctx.clock()
        with transaction(ctx.sessions) as session:
            return leases.renew(session, reconcile.LEASE, owner, moment, moment + hold)

    return reconcile.run_pass(ctx, owner, schedule_wants, still_mine=still_mine)


@contextmanager
def parsing_before(client: Any) -> Iterator[None]:
    """The client parses answers with the timestamp parser before, for the block."""
    endpoint = client._endpoint
    kept = endpoint._response_parser_factory
    factory = parsing._ParserFactory()
    factory.set_parser_defaults(timestamp_parser=timestamp)
    endpoint._response_parser_factory = factory  # botocore makes a parser per answer from it
    try:
        yield
    finally:
        endpoint._response_parser_factory = kept
