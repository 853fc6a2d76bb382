"""`dbsnooze sleep` and `dbsnooze wake`: a person's override, acted on at once.

The override is recorded in the store and one reconciler pass runs here for the instance, so
the stop or start happens now; the running service's reconciler ends it when it expires.
"""

from __future__ import annotations

from typing import Annotated

import typer

from dbsnooze import notify
from dbsnooze.cli import ConfigOpt, _context, _fail, _resolve, app, console
from dbsnooze.context import Context
from dbsnooze.errors import DbsnoozeError
from dbsnooze.jobs.worker import worker_name
from dbsnooze.schedules import overriding, reconcile
from dbsnooze.store.db import transaction

ForOpt = Annotated[
    str | None,
    typer.Option("--for", help="how long: 10m, 2h, 1d [default: until the schedule's next change]"),
]
Instance = Annotated[str, typer.Argument(help="instance id or name")]
WHO = "user:cli"


@app.command("sleep")
def sleep_cmd(instance: Instance, for_: ForOpt = None, config: ConfigOpt = None) -> None:
    """Keep an instance asleep (stop it now) for a while."""
    _override(_context(config), instance, True, for_)


@app.command("wake")
def wake_cmd(instance: Instance, for_: ForOpt = None, config: ConfigOpt = None) -> None:
    """Keep an instance awake (start it now) for a while."""
    _override(_context(config), instance, False, for_)


def _override(ctx: Context, instance: str, asleep: bool, for_: str | None) -> None:
    instance_id = _resolve(ctx, instance)
    try:
        duration = overriding.parse_duration(for_) if for_ is not None else None
        with transaction(ctx.sessions) as session:
            found, why = overriding.put(
                session, instance_id, asleep, WHO, ctx.clock(), None, duration
            )
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    state = "asleep" if asleep else "awake"
    console.print(f"{instance}: kept {state} until {found.until:%Y-%m-%d %H:%M} UTC ({why})")
    with notify.running(ctx):  # its webhooks are told before the command returns
        report = reconcile.run_pass(ctx, worker_name(), only=[instance_id])
    for error in report.errors:
        console.print(f"[yellow]{error}[/yellow]")
    for outcome in report.outcomes:
        result = f" -> {outcome.result}" if outcome.result else ""
        console.print(f"{outcome.name}: {outcome.reason}{result}")
    if any(o.result == "failed" for o in report.outcomes) or report.errors:
        raise typer.Exit(1)
