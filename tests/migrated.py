"""A store at the newest schema in milliseconds: one real `upgrade` recorded, then replayed.

Every test store needs the schema at head, and running the Alembic chain costs 0.2-0.9 s a store
(some 800 stores a run). The first upgrade of each dialect in a test process runs for real and
records every statement it sends; later stores get the same statements (but SQLite's PRAGMAs,
which set the connection) replayed on one connection in one transaction. A recording that names
its own PostgreSQL schema would not be portable, so it is not kept (the real upgrade runs every
time). tests/store/test_migrated.py
proves that a replayed store has the schema and revision of a migrated one.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, Engine, event

from dbsnooze.store.db import upgrade

Statement = tuple[str, Any]
_recorded: dict[str, list[Statement]] = {}


def migrate(engine: Engine) -> None:
    """What `dbsnooze.store.db.upgrade(engine)` does to an empty store, faster."""
    script = _recorded.get(engine.dialect.name)
    if script is None:
        _record(engine)
        return
    with engine.begin() as conn:
        for statement, parameters in script:
            conn.exec_driver_sql(statement, parameters)


def _record(engine: Engine) -> None:
    sent: list[Statement] = []

    def keep(
        conn: Connection, cursor: Any, statement: str, parameters: Any, context: Any, many: bool
    ) -> None:
        sent.append((statement, list(parameters) if many else parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        upgrade(engine)
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    schema = engine.url.query.get("options", "")
    own = str(schema).rpartition("search_path=")[2]
    if not own or not any(own in statement for statement, _ in sent):
        # PRAGMAs set the connection, not the schema (env.py turns SQLite's foreign keys off and
        # on around its transaction; replayed inside one, the "on" would be ignored)
        _recorded[engine.dialect.name] = [s for s in sent if not _is_pragma(s[0])]


def _is_pragma(statement: str) -> bool:
    return statement.lstrip().upper().startswith("PRAGMA")
