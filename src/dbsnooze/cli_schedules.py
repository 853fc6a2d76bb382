"""`dbsnooze schedules list|create|assign|preview` (SPEC §11), through the same service as the
API, audited as "cli"."""

from __future__ import annotations

import json
import re
from datetime import date
from typing import Annotated

import typer

from dbsnooze.api import schedule_view
from dbsnooze.cli import ConfigOpt, JsonOpt, _context, _fail, _print, app, console
from dbsnooze.errors import DbsnoozeError, Unprocessable
from dbsnooze.schedules import service
from dbsnooze.schedules.check import clock
from dbsnooze.schedules.rules import DAY_NAMES
from dbsnooze.schedules.spec import ScheduleSpec, Window
from dbsnooze.store import schedules as store
from dbsnooze.store.db import transaction
from dbsnooze.store.schedules import Settings

schedules_app = typer.Typer(no_args_is_help=True, help="Sleep schedules.")
app.add_typer(schedules_app, name="schedules")
ACTOR = "cli"
_DAY = {name.lower(): number for number, name in enumerate(DAY_NAMES)}
_WINDOW = re.compile(
    r"(?P<days>[a-z,-]+) (?P<sleep>\d\d:\d\d)-(?:(?P<wake_day>[a-z]{3}) )?(?P<wake>\d\d:\d\d)"
)


def parse_window(text: str) -> Window:
    """ "mon-fri 19:00-07:00" (to the next morning), "sat,sun 00:00-00:00" (whole days) or
    "fri 19:00-mon 07:00" (across days)."""
    found = _WINDOW.fullmatch(text.strip().lower())
    if found is None:
        raise Unprocessable("bad_window", f"{text!r} is not like 'mon-fri 19:00-07:00'")
    days = _days(found["days"])
    sleep, wake = clock(found["sleep"]), clock(found["wake"])
    if found["wake_day"] is None:
        return Window(days, sleep, wake)
    if len(days) != 1 or found["wake_day"] not in _DAY:
        raise Unprocessable("bad_window", f"{text!r}: a window across days starts on one day")
    overnight = 1 if wake <= sleep else 0
    span = (_DAY[found["wake_day"]] - days[0] - overnight) % 7
    return Window(days, sleep, wake, span)


def _days(text: str) -> tuple[int, ...]:
    days: set[int] = set()
    for part in text.split(","):
        first, _, last = part.partition("-")
        if first not in _DAY or (last and last not in _DAY):
            raise Unprocessable("bad_window", f"{part!r} is not a day like mon, or mon-fri")
        start, end = _DAY[first], _DAY[last or first]
        days.update((start + n) % 7 for n in range((end - start) % 7 + 1))
    return tuple(sorted(days))


@schedules_app.command("list")
def schedules_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """Every schedule, its rules, flags and what it wants now."""
    ctx = _context(config)
    now = ctx.clock()
    with ctx.sessions() as session:
        shown = [
            schedule_view.schedule(row, store.explicit_instances(session, row.id), now)
            for row in store.listing(session)
        ]
    if as_json:
        console.print_json(json.dumps({"data": [s.model_dump(mode="json") for s in shown]}))
        return
    records = [
        {
            "id": s.id,
            "name": s.name,
            "zone": s.timezone,
            "windows": "; ".join(w.label.removeprefix("window ") for w in s.windows) or "-",
            "cron": f"{s.sleep_cron} / {s.wake_cron}" if s.sleep_cron else "-",
            "enabled": "yes" if s.enabled else "no",
            "mode": "dry run" if s.dry_run else "live",
            "explicit": len(s.instance_ids),
            "now": "asleep" if s.now.asleep else "awake",
        }
        for s in shown
    ]
    _print(records, False, "Schedules")


@schedules_app.command("create")
def schedules_create(
    name: Annotated[str, typer.Argument(help="a name for the schedule")],
    timezone: Annotated[str, typer.Option("--tz", help="IANA zone, e.g. Europe/Berlin")],
    window: Annotated[
        list[str] | None,
        typer.Option("--window", "-w", help="'mon-fri 19:00-07:00' or 'fri 19:00-mon 07:00'"),
    ] = None,
    sleep_cron: Annotated[str | None, typer.Option(help="cron of sleep times (5 fields)")] = None,
    wake_cron: Annotated[str | None, typer.Option(help="cron of wake times (5 fields)")] = None,
    skip: Annotated[list[str] | None, typer.Option(help="a date kept awake (YYYY-MM-DD)")] = None,
    holidays: Annotated[
        str | None, typer.Option(help="public holidays sleep all day: COUNTRY or COUNTRY/SUBDIV")
    ] = None,
    instance: Annotated[
        list[int] | None, typer.Option("--instance", "-i", help="assign instance ID; repeat")
    ] = None,
    live: Annotated[bool, typer.Option(help="act at once instead of a dry run")] = False,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a schedule (a dry run unless --live)."""
    ctx = _context(config)
    country, _, subdivision = (holidays or "").partition("/")
    try:
        spec = ScheduleSpec(
            timezone=timezone,
            windows=tuple(parse_window(text) for text in window or ()),
            sleep_cron=sleep_cron,
            wake_cron=wake_cron,
            skip_dates=tuple(_date(text) for text in skip or ()),
            holidays_country=country or None,
            holidays_subdivision=subdivision or None,
        )
        with transaction(ctx.sessions) as session:
            row = service.create(
                session, name, Settings(spec, dry_run=not live), ACTOR, ctx.clock(), instance or ()
            )
            shown = schedule_view.schedule(
                row, store.explicit_instances(session, row.id), ctx.clock()
            )
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    if as_json:
        console.print_json(shown.model_dump_json())
        return
    mode = "dry run" if shown.dry_run else "live"
    console.print(f"created schedule [bold]{shown.name}[/bold] (id {shown.id}, {mode})")


@schedules_app.command("assign")
def schedules_assign(
    schedule_id: Annotated[int, typer.Argument(help="the schedule's ID")],
    instance_ids: Annotated[list[int], typer.Argument(help="instance IDs")],
    remove: Annotated[bool, typer.Option(help="take the instances back instead")] = False,
    config: ConfigOpt = None,
) -> None:
    """Assign instances to a schedule explicitly (or --remove them)."""
    ctx = _context(config)
    try:
        with transaction(ctx.sessions) as session:
            change = service.unassign if remove else service.assign
            changed = change(session, schedule_id, instance_ids, ACTOR, ctx.clock())
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    verb = "removed" if remove else "assigned"
    console.print(f"{verb} {len(changed)} instance(s): {', '.join(map(str, changed)) or '-'}")


@schedules_app.command("preview")
def schedules_preview(
    schedule_id: Annotated[int, typer.Argument(help="the schedule's ID")],
    days: Annotated[int, typer.Option(min=1, max=service.MAX_PREVIEW_DAYS)] = 7,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """The next days of transitions on the schedule's clock, and who follows it."""
    ctx = _context(config)
    try:
        with ctx.sessions() as session:
            shown = schedule_view.preview(service.preview(session, schedule_id, ctx.clock(), days))
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    if as_json:
        console.print_json(shown.model_dump_json())
        return
    moves = [
        {"local time": t.local, "state": "asleep" if t.asleep else "awake", "why": t.reason}
        for t in shown.transitions
    ]
    _print(moves, False, f"Next {days} days in {shown.timezone}")
    members = [
        {"id": m.instance_id, "instance": m.instance_name, "status": m.status, "why": m.reason}
        for m in shown.data
    ]
    _print(members, False, "Instances")


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError as error:
        raise Unprocessable("bad_date", f"{text!r} is not a date like 2026-12-24") from error
