"""The reconciler's world as a fixture (see reconhelp.World)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbsnooze.config import Settings
from dbsnooze.context import build_context
from dbsnooze.demo.emulator import Emulator
from dbsnooze.store.db import upgrade
from faultproxy import FaultProxy
from metricshelp import Clock
from rdslayer import RdsLayer
from reconhelp import START, World


@pytest.fixture()
def world(settings: Settings, moto: Emulator) -> Iterator[World]:
    clock = Clock(START)
    with RdsLayer(moto.endpoint_url, clock) as layer, FaultProxy(layer.url) as proxy:
        ctx = build_context(settings.model_copy(update={"cloud_max_attempts": 2}), clock)
        upgrade(ctx.engine)
        try:
            yield World(ctx, clock, layer, proxy, moto)
        finally:
            ctx.close()
