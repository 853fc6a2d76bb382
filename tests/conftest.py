"""Shared fixtures: a real moto server over HTTP, and stores on SQLite and PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from dbsnooze.config import Settings
from dbsnooze.context import Context, build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.store.db import scratch_schema
from faultproxy import FaultProxy
from migrated import migrate

PG_URL = os.environ.get("DBSNOOZE_TEST_POSTGRES_URL")
STORES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens there
LOOPBACK = "127.0.0.1,localhost,::1"


def pytest_configure(config: pytest.Config) -> None:
    """For the whole run, HTTP to anything but loopback goes to a proxy that is not there: a
    fuzzed endpoint URL or the default credential chain can never reach out. (Set once, not per
    test: urllib builds its opener, proxies included, on first use and keeps it.)"""
    for name in ("http_proxy", "https_proxy", "all_proxy", "no_proxy"):  # lower case wins
        value = LOOPBACK if name == "no_proxy" else DEAD_PROXY
        os.environ[name] = os.environ[name.upper()] = value


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing a test does may read the developer's own AWS configuration or keys."""
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "aws-credentials"))
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "aws-config"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    for name in list(os.environ):
        if name.startswith("DBSNOOZE_") and name != "DBSNOOZE_TEST_POSTGRES_URL":
            monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    with Emulator() as emu:
        yield emu


@pytest.fixture()
def moto(emulator: Emulator) -> Emulator:
    """The shared emulator, emptied before each test."""
    emulator.reset()
    return emulator


@pytest.fixture()
def proxy(moto: Emulator) -> Iterator[FaultProxy]:
    """A fault-injecting, request-logging HTTP proxy in front of the emptied emulator."""
    with FaultProxy(moto.endpoint_url) as fault_proxy:
        yield fault_proxy


@pytest.fixture(params=STORES)
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'store.db'}"
        return
    if not PG_URL:
        pytest.skip("DBSNOOZE_TEST_POSTGRES_URL is not set")
    with scratch_schema(PG_URL, prefix="t") as url:
        yield url


class FrozenClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture()
def clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 11, 18, 14, 23, tzinfo=UTC))


@pytest.fixture()
def settings(store_url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=store_url,
        secret_key_file=tmp_path / "dbsnooze.key",
        run_scheduler=False,
        run_collector=False,
        cloud_max_attempts=3,
        cloud_timeout_seconds=5,
        allowed_hosts=("testserver",),  # the Host of Starlette's TestClient
    )


@pytest.fixture()
def ctx(settings: Settings) -> Iterator[Context]:
    context = build_context(settings)
    migrate(context.engine)
    yield context
    context.close()
