"""`dbsnooze sleep` and `dbsnooze wake`: the override is recorded and acted on at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from typer.testing import CliRunner

from dbsnooze import cli
from reconhelp import World


@pytest.fixture()
def run(world: World, monkeypatch: pytest.MonkeyPatch) -> object:
    settings = world.ctx.settings
    monkeypatch.setenv("DBSNOOZE_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("DBSNOOZE_SECRET_KEY_FILE", str(settings.secret_key_file))
    monkeypatch.setenv("DBSNOOZE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(cli.console, "width", 250)

    def invoke(*args: str) -> tuple[int, str]:
        result = CliRunner().invoke(cli.app, list(args))
        return result.exit_code, result.output

    return invoke


def test_sleep_for_a_while_stops_now_and_wake_starts(world: World, run: object) -> None:
    world.instance("app")

    code, out = run("sleep", "app", "--for", "10m")  # type: ignore[operator]

    assert code == 0, out
    assert "app: kept asleep until" in out and "(for 10m)" in out
    assert "override: keep asleep" in out and "-> done" in out
    assert world.calls() == ["StopDBInstance:app"]
    world.clock.advance(timedelta(minutes=5))  # stopping -> stopped
    code, out = run("wake", "app")  # type: ignore[operator]
    assert code == 0, out
    assert "(the default 2h (no schedule says otherwise))" in out
    assert world.calls() == ["StopDBInstance:app", "StartDBInstance:app"]


def test_a_bad_duration_or_instance_is_refused(world: World, run: object) -> None:
    world.instance("app")

    code, out = run("sleep", "app", "--for", "soon")  # type: ignore[operator]
    assert code == 1 and "bad_duration" in out
    code, out = run("wake", "nothing-here")  # type: ignore[operator]
    assert code == 1 and "no instance named" in out
    assert world.calls() == []
