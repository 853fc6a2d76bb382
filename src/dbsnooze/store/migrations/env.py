"""Alembic environment: runs against the engine dbsnooze hands in."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from dbsnooze.store.tables import Base

engine = context.config.attributes["engine"]
assert isinstance(engine, Engine)

with engine.connect() as connection:
    sqlite = engine.dialect.name == "sqlite"
    if sqlite:  # a batch migration rebuilds tables: dropping the old one must cascade nowhere
        connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=engine.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
    if sqlite:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        if broken:
            raise RuntimeError(f"migrations left rows pointing at nothing: {broken[:5]}")
