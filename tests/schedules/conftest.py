"""The reconciler's world as a fixture (see reconhelp.World)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from dbsnooze.config import Settings
from dbsnooze.demo.emulator import Emulator
from reconhelp import World, world_of


@pytest.fixture()
def world(settings: Settings, moto: Emulator) -> Iterator[World]:
    with world_of(settings, moto) as found:
        yield found
