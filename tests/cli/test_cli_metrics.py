"""`dbsnooze backfill` and `dbsnooze metrics` against a real store and the moto emulator.

The CLI runs on the real clock, so the data the test writes covers the hours before now.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dbsnooze import cli
from dbsnooze.context import Context
from dbsnooze.demo.emulator import Emulator
from metricshelp import ALL_METRICS, HOUR, KEY_ID, SECRET, create_db, hours, put, stored, values


@pytest.fixture()
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, store_url: str) -> None:
    monkeypatch.setenv("DBSNOOZE_DATABASE_URL", store_url)
    monkeypatch.setenv("DBSNOOZE_SECRET_KEY_FILE", str(tmp_path / "key"))
    monkeypatch.setenv("DBSNOOZE_AUTO_BACKFILL", "false")
    monkeypatch.setenv("DBSNOOZE_LOG_LEVEL", "WARNING")
    monkeypatch.setattr(cli.console, "width", 200)  # room for every column of the table


def run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli.app, list(args), env={"AWS_SECRET_ACCESS_KEY": SECRET})
    return result.exit_code, result.output


def test_backfill_and_metrics_from_the_command_line(
    env: None, ctx: Context, moto: Emulator
) -> None:
    create_db(moto, "cli-db")
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    written = put(moto, "cli-db", hours(now - 30 * HOUR, 31))  # through the current hour
    assert run("accounts", "add", "main", "--region", "us-east-1", "--auth", "static_keys",
               "--access-key-id", KEY_ID, "--endpoint-url", moto.endpoint_url)[0] == 0  # fmt: skip
    assert run("discover")[0] == 0

    code, planned = run("backfill", "--all", "--days", "1", "--dry-run")
    assert code == 0, planned
    estimate = json.loads(planned)
    assert (estimate["instances"], estimate["days"], estimate["requests"]) == (1, 1, 5)
    # the job it plans reads one instance through free GetMetricStatistics calls
    assert (estimate["statistics_calls"], estimate["data_calls"]) == (5, 0)
    assert (estimate["data_queries"], estimate["data_cost_usd"]) == (0, 0.0)
    assert stored(ctx, 1) == {}  # a dry run asks nothing and stores nothing

    code, first = run("backfill", "cli-db", "--days", "1")
    assert code == 0, first
    assert "succeeded: 24 hours backfilled, 0 skipped, 0 empty of 24; 5 CloudWatch calls" in first
    rows = stored(ctx, 1)
    assert len(rows) == 24 * len(ALL_METRICS)
    assert {key: row[:4] for key, row in rows.items()} == {
        key: values(written[key]) for key in rows
    }

    code, again = run("backfill", "1", "--days", "1")
    assert code == 0, again
    assert "succeeded: 0 hours backfilled, 24 skipped, 0 empty of 24; 0 CloudWatch calls" in again

    code, table = run("metrics", "cli-db", "--range", "24h")
    assert code == 0, table
    assert "cli-db (db.t3.micro), hourly averages, UTC" in table
    last = max(hour for _, hour in rows)
    line = next(line for line in table.splitlines() if f"{last:%a %d %b %H}:00" in line)
    cells = re.split(r"\s*│\s*", line.strip("│ "))
    assert cells[1] == "complete"
    assert cells[2] == cli._cell(values(written["cpu", last])[0])
    assert len([line for line in table.splitlines() if re.search(r"\d\d:00 ", line)]) == 24


def test_backfill_refuses_bad_arguments(env: None) -> None:
    for args, message in [
        (("backfill", "1", "--days", "0"), "invalid_days"),  # not the default 7 days
        (("backfill", "1", "--days", "-2"), "invalid_days"),
        (("backfill",), "name one INSTANCE, or use --all"),
        (("backfill", "cli-db", "--all"), "name one INSTANCE, or use --all"),
        (("backfill", "no-such-db"), "no instance named 'no-such-db'"),
        (("metrics", "1", "--range", "2h"), "--range must be one of"),
    ]:
        code, output = run(*args)
        assert code == 1, (args, output)
        assert message in output, (args, output)
