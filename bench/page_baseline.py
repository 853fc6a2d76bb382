"""The fleet page's history columns as they were computed before store.summaries: from the
samples, on every request. Kept only to measure the summaries against, in the same process."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.domain import HOUR, HourRange, Source
from dbsnooze.store import samples, summaries
from dbsnooze.store.tables import SampleRow
from dbsnooze.web.overview import SPARK_METRIC, Extras, Spark, spark_window


def page_extras(
    session: Session, instance_ids: Sequence[int], metrics: Sequence[str], now: datetime
) -> dict[int, Extras]:
    """Sparklines from the week's CPU samples, coverage from every metric's samples of the week,
    and last activity from a scan of every stored hour: three reads that grow with history."""
    ids = sorted(set(instance_ids))
    if not ids:
        return {}
    window = spark_window(now)
    sparks = _sparks(session, ids, window) if SPARK_METRIC in metrics else {}
    coverage = samples.coverage_summary(session, ids, metrics, window)
    last = summaries.newest_active(session.connection(), ids)
    empty = Spark([None] * window.hours, [False] * window.hours)
    return {
        i: Extras(sparks.get(i, empty), coverage.get(i, {}), last.get(i), hours=window.hours)
        for i in ids
    }


def _sparks(session: Session, ids: Sequence[int], window: HourRange) -> dict[int, Spark]:
    columns = (SampleRow.instance_id, SampleRow.hour, SampleRow.average, SampleRow.source)
    query = select(*columns).where(
        SampleRow.instance_id.in_(ids),
        SampleRow.metric == SPARK_METRIC,
        SampleRow.hour >= window.start,
        SampleRow.hour < window.end,
    )
    found = {i: Spark([None] * window.hours, [False] * window.hours) for i in ids}
    for instance_id, hour, average, source in session.execute(query).tuples():
        slot = int((hour - window.start) / HOUR)
        found[instance_id].values[slot] = average
        found[instance_id].asleep[slot] = source == Source.ASLEEP.value
    return found
