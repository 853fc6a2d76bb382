"""Engine, sessions and migrations. Nothing connects at import time."""

from __future__ import annotations

import functools
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from dbsnooze.store import sqlite

MIGRATIONS = "dbsnooze.store:migrations"
VERSION_TABLE = "alembic_version"


def make_engine(url: str) -> Engine:
    """An engine for a SQLite or PostgreSQL URL. Both notice a store that went away and was
    restored, so the process recovers without a restart: PostgreSQL by pinging a pooled
    connection before use, SQLite by checking its file (see `store.sqlite`)."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        sqlite.install(engine, sqlite.store_path(parsed))
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    # an unreachable server fails a request in seconds instead of the operating system's minutes
    connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": 10}
    return create_engine(
        parsed, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


def is_postgres(engine: Engine) -> bool:
    return engine.dialect.name == "postgresql"


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: committed when the block ends, rolled back when it raises."""
    with factory() as session, session.begin():
        yield session


def _alembic_config(engine: Engine | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply migrations up to `revision` (idempotent; safe to run at every start)."""
    command.upgrade(_alembic_config(engine), revision)


def downgrade(engine: Engine, revision: str) -> None:
    """Undo migrations down to `revision` (tests and rollbacks by hand)."""
    command.downgrade(_alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision; None for a store never migrated."""
    with engine.connect() as conn:
        if not inspect(conn).has_table(VERSION_TABLE):
            return None
        revision = conn.scalar(text(f"SELECT version_num FROM {VERSION_TABLE}"))
        return None if revision is None else str(revision)


@functools.cache
def expected_revision() -> str | None:
    """The newest migration this version of dbsnooze ships: what a ready store is at."""
    return ScriptDirectory.from_config(_alembic_config()).get_current_head()


@contextmanager
def scratch_schema(base_url: str, prefix: str = "scratch") -> Iterator[str]:
    """A URL onto a new, empty PostgreSQL schema, dropped with all it holds when the block ends.

    Tests and benchmarks use it so that runs never see each other's rows.
    """
    schema = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = create_engine(base_url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in base_url else "?"
        yield f"{base_url}{sep}options=-csearch_path%3D{schema}"
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
