"""The migrations build exactly the schema the models describe, on both stores.

Revisions written side by side and chained afterwards can drift from `tables.py` (a column,
an index or a foreign key one of them forgot); the models are what the code queries.
"""

from __future__ import annotations

from typing import Any

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from dbsnooze.store.db import make_engine, upgrade
from dbsnooze.store.tables import Base


def _differences(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        upgrade(engine)
        with engine.connect() as conn:
            context = MigrationContext.configure(conn, opts={"compare_type": False})
            return [
                change
                for change in compare_metadata(context, Base.metadata)
                if not _is_alembic_bookkeeping(change)
            ]
    finally:
        engine.dispose()


def _is_alembic_bookkeeping(change: Any) -> bool:
    return (
        isinstance(change, tuple)
        and change[0] == "remove_table"
        and (change[1].name == "alembic_version")
    )


def test_the_migrated_schema_is_the_models_schema(store_url: str) -> None:
    assert _differences(store_url) == []
