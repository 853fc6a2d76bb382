"""An app served in-process over the real ASGI stack, against the test store and emulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from dbsnooze.api.app import create_app
from dbsnooze.config import Settings
from dbsnooze.context import Context


@pytest.fixture()
def api(settings: Settings, ctx: Context) -> Iterator[TestClient]:
    with TestClient(create_app(settings, ctx), raise_server_exceptions=False) as client:
        yield client
