"""`dbsnooze recommend` and `dbsnooze prices`: sleep recommendations and the price table."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from dbsnooze.analysis import decisions, runner
from dbsnooze.api import sleep_view
from dbsnooze.cli import ConfigOpt, JsonOpt, _context, _fail, _print, app, console
from dbsnooze.domain import ProviderError
from dbsnooze.errors import DbsnoozeError
from dbsnooze.prices import refresh as price_refresh
from dbsnooze.prices.table import PriceSource, parse_csv, to_csv
from dbsnooze.store import prices as price_store
from dbsnooze.store import recommendations
from dbsnooze.store.db import transaction
from dbsnooze.store.recommendations import RecommendationFilter

prices_app = typer.Typer(no_args_is_help=True, help="On-demand prices for predicted savings.")
app.add_typer(prices_app, name="prices")
MAX_PRICE_FILE_BYTES = 20 * 1024 * 1024


@app.command("recommend")
def recommend(
    apply: Annotated[int | None, typer.Option("--apply", help="accept recommendation ID")] = None,
    dismiss: Annotated[
        int | None, typer.Option("--dismiss", help="dismiss recommendation ID")
    ] = None,
    refresh: Annotated[bool, typer.Option(help="recompute every recommendation first")] = False,
    kind: Annotated[str | None, typer.Option(help="sleep, stop, none, blocked, ...")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Sleep recommendations, biggest saving first; --apply or --dismiss one by its ID."""
    ctx = _context(config)
    try:
        if apply is not None or dismiss is not None:
            _decide(ctx, apply, dismiss)
            return
        if refresh:
            done = runner.recompute(ctx)
            console.print(f"recomputed {done.computed} recommendations")
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    with ctx.sessions() as session:
        pairs = recommendations.listing(session, RecommendationFilter(kind=kind))
        items = [sleep_view.recommendation(rec, row) for rec, row in pairs]
    if as_json:
        data = {"data": [i.model_dump(mode="json") for i in items]}
        console.print_json(json.dumps({**data, "total": sleep_view.total(items).model_dump()}))
        return
    _print([_row(item) for item in items], False, "Recommendations")
    total = sleep_view.total(items)
    money = f"${total.usd_month:,.2f} a month" + (" (demo prices)" if total.demo_prices else "")
    console.print(
        f"Predicted saving: {money} and {total.hours_month:,.0f} instance-hours a month "
        f"({total.unpriced} without a known price); storage keeps being billed."
    )


def _decide(ctx: Any, apply: int | None, dismiss: int | None) -> None:
    if apply is not None and dismiss is not None:
        _fail("--apply or --dismiss, not both")
    with transaction(ctx.sessions) as session:
        if apply is not None:
            rec = decisions.apply(session, apply, "cli", ctx.clock())
            windows = ", ".join(f"{w['sleep']} → {w['wake']}" for w in rec.windows)
            console.print(f"applied recommendation {rec.id} ({rec.timezone}): {windows}")
        else:
            assert dismiss is not None
            rec = decisions.dismiss(session, dismiss, "cli", ctx.clock())
            console.print(f"dismissed recommendation {rec.id} until its windows change")


def _row(item: Any) -> dict[str, Any]:
    saving = f"${item.saving_usd_month:,.2f}" if item.saving_usd_month is not None else "-"
    return {
        "id": item.id,
        "instance": item.instance_name,
        "kind": item.kind,
        "state": item.state,
        "what": item.message,
        "windows": "; ".join(f"{w.sleep} → {w.wake}" for w in item.windows) or "-",
        "zone": item.timezone,
        "h/week": f"{item.hours_per_week:.0f}",
        "h/month": f"{item.saving_hours_month:.0f}",
        "$/month": saving,
        "backtest": "clean" if item.backtest.clean else f"{item.backtest.interrupted_hours} h",
    }


@prices_app.command("load")
def prices_load(
    file: Annotated[
        Path, typer.Argument(help="CSV: instance_class,engine,region,deployment,usd_per_hour")
    ],
    config: ConfigOpt = None,
) -> None:
    """Load a price table (USD per hour) from a CSV file; rows replace the same keys."""
    if not file.is_file() or file.stat().st_size > MAX_PRICE_FILE_BYTES:
        _fail(f"{file} is not a readable file of at most {MAX_PRICE_FILE_BYTES} bytes")
    ctx = _context(config)
    try:
        found = parse_csv(file.read_text(encoding="utf-8"), PriceSource.CSV)
    except (DbsnoozeError, UnicodeDecodeError) as exc:
        _fail(getattr(exc, "message", str(exc)))
    with transaction(ctx.sessions) as session:
        saved = price_store.save(session, found, ctx.clock())
    console.print(f"loaded {saved} prices from {file.name}")


@prices_app.command("list")
def prices_list(config: ConfigOpt = None, csv: bool = False) -> None:
    """The price table."""
    ctx = _context(config)
    with ctx.sessions() as session:
        found = price_store.all_prices(session)
    if csv:
        print(to_csv(found), end="")
        return
    records = [
        {
            "class": p.key.instance_class,
            "engine": p.key.engine,
            "region": p.key.region,
            "deployment": p.key.deployment.value,
            "usd_per_hour": p.usd_per_hour,
            "source": p.source.value,
        }
        for p in found
    ]
    _print(records, False, f"Prices ({len(records)})")


@prices_app.command("refresh")
def prices_refresh(
    account: Annotated[int | None, typer.Option(help="AWS account to ask through")] = None,
    config: ConfigOpt = None,
) -> None:
    """Fill the price table from the AWS Price List query API (needs pricing:GetProducts)."""
    ctx = _context(config)
    try:
        done = price_refresh.refresh(ctx, account)
    except (DbsnoozeError, ProviderError) as exc:
        _fail(f"{exc.message} ({exc.code})")
    console.print(
        f"{done.saved} prices for {done.asked} class and region pairs, through account "
        f"{done.account}"
    )
