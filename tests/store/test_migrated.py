"""The tests' shortcut to a migrated store (tests/migrated.py) builds what the migrations build:
the same tables, columns, keys, indexes (partial ones with their condition), rows and revision,
and a SQLite store that enforces its foreign keys."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, inspect, text

import migrated
from dbsnooze.store.db import (
    current_revision,
    expected_revision,
    make_engine,
    scratch_schema,
    upgrade,
)


@contextmanager
def _store(store_url: str, tmp_path: Path, name: str) -> Iterator[Engine]:
    if store_url.startswith("sqlite"):
        engine = make_engine(f"sqlite:///{tmp_path / name}")
        yield engine
        engine.dispose()
        return
    with scratch_schema(os.environ["DBSNOOZE_TEST_POSTGRES_URL"], prefix="m") as url:
        engine = make_engine(url)
        yield engine
        engine.dispose()


def _where(options: dict[str, Any]) -> dict[str, str]:
    return {key: " ".join(str(value).split()) for key, value in options.items()}


def _rows(engine: Engine, table: str) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def _shape(engine: Engine) -> dict[str, Any]:
    found = inspect(engine)
    return {
        table: {
            "columns": [
                (c["name"], str(c["type"]), c["nullable"], str(c.get("default")))
                for c in found.get_columns(table)
            ],
            "pk": found.get_pk_constraint(table),
            "fks": sorted(str(fk) for fk in found.get_foreign_keys(table)),
            "uniques": sorted(str(u) for u in found.get_unique_constraints(table)),
            "rows": _rows(engine, table),
            "indexes": sorted(
                str({**i, "dialect_options": _where(i.get("dialect_options", {}))})
                for i in found.get_indexes(table)
            ),
        }
        for table in sorted(found.get_table_names())
    }


def test_a_replayed_store_is_the_migrated_store(store_url: str, tmp_path: Path) -> None:
    with _store(store_url, tmp_path, "first.db") as first:
        migrated.migrate(first)  # the first store of a process records (or was recorded before)
        assert first.dialect.name in migrated._recorded, "nothing was recorded to replay"
        with (
            _store(store_url, tmp_path, "a.db") as real,
            _store(store_url, tmp_path, "b.db") as fast,
        ):
            upgrade(real)
            migrated.migrate(fast)
            assert current_revision(fast) == current_revision(real) == expected_revision()
            assert _shape(fast) == _shape(real)
            assert len(_shape(real)) > 10
            if fast.dialect.name == "sqlite":  # as every store of the product: keys enforced
                with fast.connect() as conn:
                    assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
