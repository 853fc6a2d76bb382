"""`python -m bench` (`make bench`): run the benchmarks, print their tables, save them as JSON.

python -m bench                      all of them, on SQLite and (when it answers) PostgreSQL
python -m bench fleet read page      only these
python -m bench --quick              smaller and fewer runs, to try things out
python -m bench --profile fleet      also write pyinstrument profiles to bench/results/
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

from bench import backfill_vs_seed, fleet, live, page, read, reconcile, sleep
from bench.harness import (
    PROFILE_ENV,
    RESULTS,
    FrozenClock,
    MotoServer,
    Report,
    bench_now,
    machine,
    postgres_available,
)

NAMES = ("backfill_vs_seed", "fleet", "live", "read", "page", "sleep", "reconcile")
console = Console(highlight=False, width=150)


def main() -> None:
    args = _arguments()
    _clean_environment()
    logging.disable(logging.INFO)  # the tables are the output; warnings still show
    if args.profile:
        os.environ[PROFILE_ENV] = str(RESULTS / "profiles")
    stores = ["sqlite"] + (["postgres"] if postgres_available() else [])
    clock = FrozenClock(bench_now())
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "now": clock().isoformat(),
        "quick": args.quick,
        "machine": machine(),
        "stores": stores,
        "benchmarks": {},
    }
    console.print(_machine_line(results["machine"]))
    if "postgres" not in stores:
        console.print("[yellow]PostgreSQL does not answer on 127.0.0.1:5432: SQLite only[/]")
    for report in _run(args.names, args.quick, stores, clock):
        results["benchmarks"][report.name] = report.as_dict()
        _print(report)
    results["seconds"] = round(time.perf_counter() - started, 1)
    path = _save(results)
    console.print(f"\nall done in {results['seconds']:.0f} s; results in {path}")


def _clean_environment() -> None:
    """Defaults only, for the bench and its children: no DBSNOOZE_* setting and no AWS profile,
    key or config file of the person running it can change a figure or reach a real account."""
    ours = ("DBSNOOZE_BENCH_",)
    for name in [n for n in os.environ if n.startswith(("DBSNOOZE_", "AWS_"))]:
        if not name.startswith(ours):
            del os.environ[name]
    os.environ["AWS_CONFIG_FILE"] = os.environ["AWS_SHARED_CREDENTIALS_FILE"] = os.devnull
    os.environ["AWS_EC2_METADATA_DISABLED"] = "true"


def _arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="name", help=", ".join(NAMES) + " (all)")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, fewer runs")
    parser.add_argument("--profile", action="store_true", help="pyinstrument profiles too")
    args = parser.parse_args()
    unknown = set(args.names) - set(NAMES)
    if unknown:
        parser.error(f"unknown benchmark(s) {', '.join(sorted(unknown))}; choose from {NAMES}")
    args.names = [name for name in NAMES if name in (args.names or NAMES)]
    return args


def _run(names: list[str], quick: bool, stores: list[str], clock: FrozenClock) -> Any:
    """Yield each report as soon as it is done; the moto server lives only as long as needed."""
    count = 100 if quick else fleet.INSTANCES
    with MotoServer() as cloud:
        if "backfill_vs_seed" in names:
            plan = backfill_vs_seed.Plan.quick() if quick else backfill_vs_seed.Plan.full()
            yield _timed("backfill_vs_seed", lambda: backfill_vs_seed.run(cloud, clock, plan))
        recording = fleet.record_answers(cloud, clock) if {"fleet", "live"} & set(names) else None
        answers = reconcile.record_answers(cloud) if "reconcile" in names else None
    with tempfile.TemporaryDirectory(prefix="dbsnooze-bench-") as tmp:
        if recording is not None:
            recording_path = Path(tmp) / "recording.json"
            recording.save(recording_path)
        if "fleet" in names:
            yield _timed("fleet", lambda: fleet.run(recording_path, clock(), stores, count))
        if "live" in names and recording is not None:
            yield _timed("live", lambda: live.run(recording, clock(), stores, count, 3))
    if "read" in names:
        plan_read = read.Plan.quick() if quick else read.Plan.full()
        yield _timed("read", lambda: read.run(clock, stores, plan_read))
    if "page" in names:
        plan_page = page.QUICK if quick else page.FULL
        yield _timed("page", lambda: page.run(clock, stores, plan_page))
    if "sleep" in names:
        yield _timed("sleep", lambda: sleep.run(200 if quick else sleep.INSTANCES))
    if answers is not None:
        yield _timed("reconcile", lambda: reconcile.run(answers, stores, quick))


def _timed(name: str, run: Callable[[], Report]) -> Report:
    console.print(f"running {name} ...")
    started = time.perf_counter()
    report = run()
    report.extra["seconds"] = round(time.perf_counter() - started, 1)
    return report


def _print(report: Report) -> None:
    table = Table(title=report.title, title_justify="left")
    for _key, header in report.columns:
        table.add_column(header, justify="right")
    for row in report.rows:
        table.add_row(*(_cell(row.get(key)) for key, _ in report.columns))
    console.print()
    console.print(table)
    for target in report.targets:
        mark = "[green]met[/]" if target["met"] else "[red]MISSED[/]"
        console.print(f"  target {target['target']}: {mark} ({target['measured']})")
    for note in report.notes:
        console.print(f"  note: {note}")
    console.print(f"  ({report.extra['seconds']:.0f} s)")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def _machine_line(info: dict[str, Any]) -> str:
    postgres = f", PostgreSQL {info['postgres']}" if info["postgres"] else ""
    return (
        f"{info['cpu']}, {info['cores']} cores, {info['memory_gib']} GiB; {info['os']}; "
        f"Python {info['python']}, SQLite {info['sqlite']}{postgres}"
    )


def _save(results: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    stamp = results["started_at"].replace(":", "").replace("-", "")
    path = RESULTS / f"bench-{stamp}.json"
    text = json.dumps(results, indent=2, default=str)
    path.write_text(text)
    (RESULTS / "latest.json").write_text(text)
    return path


if __name__ == "__main__":
    main()
