"""What the embedded SQLite store needs beyond a URL: pragmas, private files, and a check that
the file a pooled connection has open is still the store (SQLite's equivalent of a pre-ping)."""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DisconnectionError

log = logging.getLogger(__name__)
PRIVATE = 0o600  # the WAL and shared-memory files take the database file's mode
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
    "PRAGMA busy_timeout=30000",
)


def store_path(url: URL) -> Path | None:
    """The store's file, or None for an in-memory or URI-named database."""
    name = url.database
    if not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def install(engine: Engine, path: Path | None) -> None:
    event.listen(engine, "connect", _pragmas)
    if path is None:
        return
    event.listen(engine, "do_connect", lambda *_: _private_file(path))
    event.listen(engine, "connect", lambda _dbapi, record: _remember(path, record))
    event.listen(engine, "checkout", lambda _dbapi, record, _proxy: _still_there(path, record))


def _pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    for pragma in PRAGMAS:
        cursor.execute(pragma)
    cursor.close()


def _private_file(path: Path) -> None:
    """Create the store file 0600 before SQLite does (it would honour the umask, usually 0644),
    and tighten one left readable by others; its -wal and -shm files copy this mode."""
    if not path.parent.is_dir():
        return  # SQLite says what is wrong when it tries to open it
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, PRIVATE))
        return
    except FileExistsError:
        pass
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, PRIVATE)
        log.warning("store file was readable by others; now 0600", extra={"path": str(path)})


def _identity(path: Path) -> tuple[int, int]:
    found = path.stat()
    return found.st_dev, found.st_ino


def _remember(path: Path, record: Any) -> None:
    record.info["sqlite_file"] = _identity(path)


def _still_there(path: Path, record: Any) -> None:
    """A pooled connection keeps the file it opened even when the path is gone (a volume
    unmounted, a directory moved, the file replaced): it would write where nobody reads.
    Such a connection is replaced, and the new one fails loudly if the store is not there."""
    try:
        same = _identity(path) == record.info.get("sqlite_file")
    except OSError:
        same = False
    if not same:
        raise DisconnectionError("the store file is no longer the one this connection opened")
