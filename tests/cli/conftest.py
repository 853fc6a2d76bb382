"""The CLI run in-process against the test store: what the commands read from the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from dbsnooze import cli


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    """The store and key for every command; a file that needs more defines its own `env`."""
    monkeypatch.setenv("DBSNOOZE_DATABASE_URL", store_url)
    monkeypatch.setenv("DBSNOOZE_SECRET_KEY_FILE", str(tmp_path / "dbsnooze.key"))
    monkeypatch.setenv("DBSNOOZE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(cli.console, "width", 250)
