"""The price table: replaced by source, looked up exactly."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, select, tuple_
from sqlalchemy.orm import Session

from dbsnooze.prices.table import Deployment, Price, PriceKey, PriceSource
from dbsnooze.store.tables import PriceRow

KEY_BATCH = 500


def save(session: Session, prices: Sequence[Price], now: datetime) -> int:
    """Insert or replace these prices; other rows stay."""
    keys = [p.key for p in prices]
    for start in range(0, len(keys), KEY_BATCH):
        batch = keys[start : start + KEY_BATCH]
        session.execute(delete(PriceRow).where(_key_column().in_([_tuple(k) for k in batch])))
    session.add_all(
        PriceRow(
            instance_class=p.key.instance_class,
            engine=p.key.engine,
            region=p.key.region,
            deployment=p.key.deployment.value,
            usd_per_hour=p.usd_per_hour,
            source=p.source.value,
            updated_at=now,
        )
        for p in {p.key: p for p in prices}.values()
    )
    session.flush()
    return len(set(keys))


def clear(session: Session, source: PriceSource) -> int:
    result = session.execute(delete(PriceRow).where(PriceRow.source == source.value))
    return int(result.rowcount)  # type: ignore[attr-defined]


def lookup(session: Session, keys: Iterable[PriceKey]) -> dict[PriceKey, Price]:
    wanted = sorted(set(keys))
    found: dict[PriceKey, Price] = {}
    for start in range(0, len(wanted), KEY_BATCH):
        batch = [_tuple(k) for k in wanted[start : start + KEY_BATCH]]
        for row in session.scalars(select(PriceRow).where(_key_column().in_(batch))):
            price = to_price(row)
            found[price.key] = price
    return found


def all_prices(session: Session) -> list[Price]:
    rows = session.scalars(select(PriceRow).order_by(PriceRow.region, PriceRow.instance_class))
    return [to_price(row) for row in rows]


def to_price(row: PriceRow) -> Price:
    key = PriceKey(row.instance_class, row.engine, row.region, Deployment(row.deployment))
    return Price(key, row.usd_per_hour, PriceSource(row.source))


def _key_column() -> ColumnElement[Any]:
    return tuple_(PriceRow.instance_class, PriceRow.engine, PriceRow.region, PriceRow.deployment)


def _tuple(key: PriceKey) -> tuple[str, str, str, str]:
    return (key.instance_class, key.engine, key.region, key.deployment.value)
