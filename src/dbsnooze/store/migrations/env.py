"""Alembic environment: runs against the engine dbsnooze hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection, Engine

from dbsnooze.store.tables import Base

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)
sqlite = engine.dialect.name == "sqlite"


def _check_foreign_keys(connection: Connection) -> None:
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
    if broken:
        raise RuntimeError(f"migrations left rows pointing at nothing: {broken[:5]}")


with engine.connect() as connection:
    if sqlite:  # a batch migration rebuilds tables: dropping the old one must cascade nowhere
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=sqlite,
        compare_type=True,
    )
    before = context.get_context().get_current_revision()
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        if context.get_context().get_current_revision() != before:  # something was rebuilt
            _check_foreign_keys(connection)
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
