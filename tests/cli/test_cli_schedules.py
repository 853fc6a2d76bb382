"""`dbsnooze schedules list|create|assign|preview` against a real store."""

from __future__ import annotations

import json
from datetime import time

import pytest

from clihelp import run
from dbsnooze.cli_schedules import parse_window
from dbsnooze.context import Context
from dbsnooze.errors import Unprocessable
from dbsnooze.schedules.spec import Window
from schedhelp import db, fleet


def test_windows_are_written_as_days_and_times() -> None:
    assert parse_window("mon-fri 19:00-07:00") == Window((0, 1, 2, 3, 4), time(19), time(7))
    assert parse_window("Fri 19:00-Mon 07:00") == Window((4,), time(19), time(7), 2)
    assert parse_window("sat,sun 00:00-00:00") == Window((5, 6), time(0), time(0))
    assert parse_window("fri-mon 22:00-06:00").days == (0, 4, 5, 6)
    for bad in ("weekdays 19:00-07:00", "mon 19-07", "mon-fri 19:00-tue 07:00"):
        with pytest.raises(Unprocessable):
            parse_window(bad)


def test_create_assign_list_and_preview(env: None, ctx: Context) -> None:
    ids = fleet(ctx, db("shop-dev"), db("shop-test"))
    code, out = run(
        "schedules", "create", "nights", "--tz", "Europe/Berlin", "-w", "mon-fri 19:00-07:00",
        "-w", "fri 19:00-mon 07:00", "--holidays", "DE/BY", "--skip", "2026-12-24",
        "-i", str(ids["shop-dev"]), "--json",
    )  # fmt: skip
    assert code == 0, out
    made = json.loads(out)
    assert made["dry_run"] is True and made["holidays_subdivision"] == "BY"
    assert [w["label"] for w in made["windows"]] == [
        "window Mon-Fri 19:00-07:00", "window Fri 19:00-Mon 07:00",
    ]  # fmt: skip
    code, out = run("schedules", "assign", str(made["id"]), str(ids["shop-test"]))
    assert (code, out) == (0, f"assigned 1 instance(s): {ids['shop-test']}\n")

    code, out = run("schedules", "list")
    assert code == 0 and "nights" in out and "Europe/Berlin" in out and "dry run" in out
    code, out = run("schedules", "preview", str(made["id"]), "--days", "3", "--json")
    assert code == 0, out
    preview = json.loads(out)
    assert {m["instance_name"] for m in preview["data"]} == {"shop-dev", "shop-test"}
    assert preview["transitions"] and all(t["reason"] for t in preview["transitions"])
    code, out = run("schedules", "preview", str(made["id"]))
    assert code == 0 and "window Mon-Fri 19:00-07:00" in out and "shop-test" in out


def test_errors_are_a_message_and_exit_code_one(env: None, ctx: Context) -> None:
    code, out = run("schedules", "create", "x", "--tz", "Mars/Olympus")
    assert code == 1 and "unknown_timezone" in out
    code, out = run("schedules", "create", "x", "--tz", "UTC", "-w", "mon 7pm-8pm")
    assert code == 1 and "bad_window" in out
    code, out = run("schedules", "create", "x", "--tz", "UTC", "--sleep-cron", "0 19 * * *")
    assert code == 1 and "half_cron_pair" in out
    assert run("schedules", "preview", "42")[0] == 1
    code, out = run("schedules", "assign", "42", "5")
    assert code == 1 and "schedule_not_found" in out
