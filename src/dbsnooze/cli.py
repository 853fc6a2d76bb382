"""The `dbsnooze` command: serve, demo, db upgrade, accounts, discover, instances."""

from __future__ import annotations

import dataclasses
import json
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from dbsnooze import accounts as account_service
from dbsnooze import logs
from dbsnooze.config import Settings, load_settings
from dbsnooze.context import Context, build_context
from dbsnooze.domain import AuthMethod, Credentials, Provider
from dbsnooze.errors import DbsnoozeError
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store.db import upgrade

app = typer.Typer(no_args_is_help=True, help="Hour-by-hour activity history of cloud databases.")
db_app = typer.Typer(no_args_is_help=True, help="The store: migrations.")
accounts_app = typer.Typer(no_args_is_help=True, help="Cloud accounts.")
instances_app = typer.Typer(no_args_is_help=True, help="Database instances.")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(instances_app, name="instances")
console = Console()
err_console = Console(stderr=True)

ConfigOpt = Annotated[
    Path | None, typer.Option("--config", help="KEY=VALUE file of DBSNOOZE_* settings")
]
HostOpt = Annotated[str | None, typer.Option(help="address to bind [default: 127.0.0.1]")]
PortOpt = Annotated[int | None, typer.Option(help="port to listen on [default: 8080]")]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def _settings(config: Path | None, **overrides: Any) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return load_settings(config, **given)
    except ValidationError as exc:  # field and reason only: the input may be a secret
        _fail("bad settings: " + "; ".join(_setting_problem(e) for e in exc.errors()))
    except Exception as exc:
        _fail(f"bad settings: {exc}")


def _setting_problem(error: Any) -> str:
    field = ".".join(str(part) for part in error.get("loc", ()))
    reason = str(error.get("msg", "invalid")).removeprefix("Value error, ")
    return f"{field}: {reason}" if field else reason


def _context(config: Path | None) -> Context:
    settings = _settings(config)
    logs.configure(settings.log_level, "text")
    ctx = build_context(settings)
    upgrade(ctx.engine)
    return ctx


def _fail(message: str, code: int = 1) -> NoReturn:
    err_console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def _warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {escape(message)}")


@app.command()
def serve(config: ConfigOpt = None, host: HostOpt = None, port: PortOpt = None) -> None:
    """Run the API, UI, discovery and background work in one process."""
    settings = _settings(config, host=host, port=port)
    _serve(settings)


def _serve(settings: Settings, ctx: Context | None = None) -> None:
    import uvicorn

    from dbsnooze.api.app import InsecureBind, create_app
    from dbsnooze.api.server import server_config

    token = settings.api_token.get_secret_value() if settings.api_token else ""
    logs.configure(settings.log_level, settings.log_format, known=[token])
    try:
        application = create_app(settings, ctx)
    except InsecureBind as exc:
        _fail(str(exc), code=2)
    uvicorn.Server(server_config(application, settings)).run()


@app.command()
def demo(
    host: HostOpt = None,
    port: PortOpt = None,
    days: Annotated[int, typer.Option(min=1, max=90, help="days of history to seed")] = 30,
    data_dir: Annotated[Path, typer.Option(help="where the demo store lives")] = Path(".demo"),
) -> None:
    """Start a local AWS emulator with a realistic fleet and serve the UI on it."""
    from dbsnooze.demo.runner import run_demo

    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    settings = _settings(
        None,
        host=host,
        port=port,
        database_url=f"sqlite:///{data_dir / 'dbsnooze.db'}",
        secret_key_file=data_dir / "dbsnooze.key",
        log_format="text",
        backfill_max_days=days,
        auto_backfill_days=days,
    )
    run_demo(settings, days, console, _serve)


@db_app.command("upgrade")
def db_upgrade(config: ConfigOpt = None) -> None:
    """Apply schema migrations to the configured store."""
    ctx = _context(config)
    console.print(f"store {ctx.engine.url.render_as_string(hide_password=True)} is up to date")


@app.command("iam-policy")
def iam_policy(
    provider: Annotated[
        Provider, typer.Option(help="aws: an IAM policy; gcp: a custom role")
    ] = Provider.AWS,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="leave out every action that changes state")
    ] = False,
    assume_role: Annotated[
        bool, typer.Option(help="add sts:AssumeRole for the identity that assumes a role")
    ] = True,
) -> None:
    """Print the least-privilege IAM policy (AWS) or custom role (GCP), built from every call
    dbsnooze makes."""
    if provider is Provider.GCP:
        from dbsnooze.providers.gcp.permissions import custom_role

        typer.echo(json.dumps(custom_role(read_only=read_only), indent=2))
        return
    from dbsnooze.providers.aws.permissions import least_privilege_policy

    policy = least_privilege_policy(include_assume_role=assume_role, read_only=read_only)
    typer.echo(json.dumps(policy, indent=2))


@accounts_app.command("add")
def accounts_add(
    name: Annotated[str, typer.Argument(help="a name for the account")],
    region: Annotated[
        list[str] | None, typer.Option("--region", "-r", help="AWS region to scan; repeat")
    ] = None,
    provider: Annotated[Provider, typer.Option(help="the cloud")] = Provider.AWS,
    project: Annotated[
        list[str] | None, typer.Option("--project", "-p", help="GCP project id to scan; repeat")
    ] = None,
    auth: Annotated[
        AuthMethod | None,
        typer.Option(help="how to authenticate [default: AWS default, GCP service_account]"),
    ] = None,
    profile: Annotated[str | None, typer.Option(help="named profile")] = None,
    access_key_id: Annotated[
        str | None, typer.Option(envvar="AWS_ACCESS_KEY_ID", show_envvar=True)
    ] = None,
    role_arn: Annotated[str | None, typer.Option(help="role to assume")] = None,
    key_file: Annotated[
        Path | None,
        typer.Option(help="GCP service-account key JSON file ('-': read it from stdin)"),
    ] = None,
    target_service_account: Annotated[
        str | None, typer.Option(help="GCP: the service account to impersonate")
    ] = None,
    endpoint_url: Annotated[str | None, typer.Option(help="endpoint override")] = None,
    timezone: Annotated[
        str | None, typer.Option(help="owners' time zone for sleep windows, e.g. Europe/Berlin")
    ] = None,
    config: ConfigOpt = None,
) -> None:
    """Add an AWS or GCP account; its credentials are tested before it is saved.

    Secrets are never taken as arguments: AWS's (the secret access key, the external id) come
    from the environment (AWS_SECRET_ACCESS_KEY, DBSNOOZE_EXTERNAL_ID) or a prompt, a GCP
    service-account key from --key-file (a path, or '-' for stdin).
    """
    from dbsnooze.analysis.zones import valid_zone

    if timezone is not None and not valid_zone(timezone):
        _fail(f"not an IANA time zone: {timezone!r} (e.g. Europe/Berlin)")
    if provider is Provider.GCP:
        method = auth or AuthMethod.GCP_SERVICE_ACCOUNT
        gcp = _GcpOptions(tuple(project or ()), key_file, target_service_account)
        new = _gcp_account(name, method, gcp, tuple(region or ()), endpoint_url)
    else:
        method = auth or AuthMethod.DEFAULT_CHAIN
        aws = _AwsOptions(profile, access_key_id, role_arn)
        new = _aws_account(name, tuple(region or ()), method, aws, endpoint_url)
    new = dataclasses.replace(new, timezone=timezone)
    ctx = _context(config)
    try:
        created = account_service.create(ctx, new, "cli")
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    console.print(f"added account [bold]{created.row.name}[/bold] (id {created.row.id})")
    for warning in created.warnings:
        _warn(warning)


@dataclass(frozen=True, slots=True)
class _AwsOptions:
    profile: str | None
    access_key_id: str | None
    role_arn: str | None


@dataclass(frozen=True, slots=True)
class _GcpOptions:
    projects: tuple[str, ...]
    key_file: Path | None
    target_service_account: str | None


def _aws_account(
    name: str,
    regions: tuple[str, ...],
    auth: AuthMethod,
    given: _AwsOptions,
    endpoint_url: str | None,
) -> account_store.NewAccount:
    import os

    if not regions:
        _fail("an AWS account needs at least one --region")
    secret = None
    if auth is AuthMethod.STATIC_KEYS:
        secret = os.environ.get("AWS_SECRET_ACCESS_KEY") or typer.prompt(
            "secret access key", hide_input=True
        )
    credentials = Credentials(
        method=auth,
        profile=given.profile,
        access_key_id=given.access_key_id if auth is AuthMethod.STATIC_KEYS else None,
        secret_access_key=secret,
        session_token=os.environ.get("AWS_SESSION_TOKEN") if secret else None,
        role_arn=given.role_arn,
        external_id=os.environ.get("DBSNOOZE_EXTERNAL_ID"),
    )
    return account_store.NewAccount(
        provider=Provider.AWS,
        name=name,
        regions=regions,
        credentials=credentials,
        endpoint_url=endpoint_url,
        secret_hint=account_service.secret_hint(credentials),
    )


def _gcp_account(
    name: str,
    auth: AuthMethod,
    given: _GcpOptions,
    regions: tuple[str, ...],
    endpoint_url: str | None,
) -> account_store.NewAccount:
    """Checked by the API's own model, so the CLI and the API accept the same accounts."""
    from dbsnooze.api.schemas import AccountCreate, to_credentials

    body: dict[str, Any] = {
        "name": name,
        "provider": "gcp",
        "projects": list(given.projects),
        "regions": list(regions),
        "endpoint_url": endpoint_url,
        "auth": {"method": auth.value},
    }
    if given.key_file is not None:
        body["auth"]["service_account_json"] = _read_key(given.key_file)
    if given.target_service_account:
        body["auth"]["target_service_account"] = given.target_service_account
    try:
        checked = AccountCreate.model_validate(body)
    except ValidationError as exc:  # field and reason only: the input may be a key
        _fail("; ".join(_setting_problem(e) for e in exc.errors()))
    credentials = to_credentials(checked.auth)
    return account_store.NewAccount(
        provider=Provider.GCP,
        name=checked.name,
        regions=(),
        credentials=credentials,
        endpoint_url=checked.endpoint_url,
        secret_hint=account_service.secret_hint(credentials),
        projects=tuple(checked.projects),
    )


def _read_key(path: Path) -> str:
    if str(path) == "-":
        return sys.stdin.read()
    try:
        return path.read_text()
    except OSError as exc:
        _fail(f"cannot read the key file {path}: {exc.strerror}")


@accounts_app.command("list")
def accounts_list(config: ConfigOpt = None, as_json: JsonOpt = False) -> None:
    """List cloud accounts (secrets are never shown)."""
    ctx = _context(config)
    with ctx.sessions() as session:
        rows = account_store.all_rows(session)
        counts = account_store.instance_counts(session)
    records = [
        {
            "id": r.id,
            "name": r.name,
            "provider": r.provider,
            "auth": r.auth_method,
            "hint": r.secret_hint or "",
            "regions": ",".join(r.regions or r.projects),
            "instances": counts.get(r.id, 0),
            "last_test_error": r.last_test_error or "",
        }
        for r in rows
    ]
    _print(records, as_json, "Cloud accounts")


@accounts_app.command("test")
def accounts_test(account_id: int, config: ConfigOpt = None) -> None:
    """Test a stored account's credentials against the cloud."""
    ctx = _context(config)
    try:
        tested = account_service.test_stored(ctx, account_id, "cli")
    except DbsnoozeError as exc:
        _fail(exc.message)
    if not tested.ok:
        _fail(f"credentials rejected: {tested.error}")
    if not tested.warnings:
        console.print("[green]ok[/green]: credentials work in every region")
    else:
        console.print("[yellow]ok, in part[/yellow]: credentials accepted")
    for warning in tested.warnings:
        _warn(warning)


@accounts_app.command("remove")
def accounts_remove(
    account_id: int,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="do not ask")] = False,
    config: ConfigOpt = None,
) -> None:
    """Remove an account and its instances' records."""
    if not yes and not typer.confirm(f"remove account {account_id} and its history?"):
        raise typer.Exit(1)
    ctx = _context(config)
    try:
        account_service.delete(ctx, account_id, "cli")
    except DbsnoozeError as exc:
        _fail(exc.message)
    console.print(f"removed account {account_id}")


@app.command()
def discover(
    account: Annotated[int | None, typer.Option(help="only this account id")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List every instance in every region of every account now."""
    from dbsnooze.discovery import discover as run

    ctx = _context(config)
    try:
        report = run(ctx, "cli", account)
    except DbsnoozeError as exc:
        _fail(exc.message)
    if as_json:
        console.print_json(json.dumps(report.as_dict()))
    else:
        records = [
            {k: v for k, v in r.items() if k not in ("account_id", "warnings")}
            for r in report.as_dict()["regions"]
        ]
        _print(records, False, "Discovery")
        for found in report.totals()["warnings"]:
            _warn(f"account {found['account']}: {found['warning']}")
    if report.totals()["errors"]:
        raise typer.Exit(1)


@instances_app.command("list")
def instances_list(
    region: Annotated[str | None, typer.Option()] = None,
    status: Annotated[str | None, typer.Option()] = None,
    engine: Annotated[str | None, typer.Option()] = None,
    account: Annotated[int | None, typer.Option()] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="name contains")] = None,
    include_deleted: bool = False,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 1000,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List known instances."""
    ctx = _context(config)
    flt = instance_store.InstanceFilter(
        account_id=account,
        region=region,
        status=status,
        engine=engine,
        q=q,
        include_deleted=include_deleted,
    )
    with ctx.sessions() as session:
        rows, total = instance_store.page(session, flt, limit, 0)
    records = [
        {
            "id": r.id,
            "name": r.provider_id,
            "status": r.status,
            "engine": f"{r.engine} {r.engine_version}",
            "class": r.instance_class,
            "region": r.region,
            "account": r.account_id,
        }
        for r in rows
    ]
    _print(records, as_json, f"Instances ({len(rows)} of {total})")


def _print(records: list[dict[str, Any]], as_json: bool, title: str) -> None:
    if as_json:
        console.print_json(json.dumps(records, default=str))
        return
    table = Table(title=title)
    for column in records[0] if records else ["(none)"]:
        table.add_column(str(column))
    for record in records:
        table.add_row(*(str(value) for value in record.values()))
    console.print(table)


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        sys.exit(130)


# --- metrics history: worker, backfill, metrics -------------------------------------------


@app.command()
def worker(config: ConfigOpt = None) -> None:
    """Run the job worker and the live collector without the API (scale-out on PostgreSQL)."""
    import signal
    import threading

    from dbsnooze import notify
    from dbsnooze.analysis.runner import recommender
    from dbsnooze.jobs.worker import background, reconciler

    ctx = _context(config)
    logs.configure(ctx.settings.log_level, ctx.settings.log_format)
    runner, collector = background(ctx, ctx.buckets)
    analysis = recommender(ctx, runner.name)
    notifier = notify.from_settings(ctx)  # posts nothing unless webhooks are configured
    ctx.notify = notifier.submit
    notifier.start()
    schedules = reconciler(ctx, runner.name)
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    runner.start()
    analysis.start()
    schedules.start()
    if ctx.settings.run_collector:
        collector.start()
    console.print(f"worker {runner.name} running; Ctrl-C stops it")
    stop.wait()
    collector.stop()
    schedules.stop()
    analysis.stop()
    runner.stop()
    notifier.stop()
    ctx.close()


@app.command("backfill")
def backfill_cmd(
    instance: Annotated[str | None, typer.Argument(help="instance id or name")] = None,
    days: Annotated[int | None, typer.Option(help="days of history [default: setting]")] = None,
    force: Annotated[bool, typer.Option(help="ask again for hours known to be empty")] = False,
    all_: Annotated[
        bool, typer.Option("--all", help="every instance matching the filters")
    ] = False,
    region: Annotated[str | None, typer.Option()] = None,
    engine: Annotated[str | None, typer.Option()] = None,
    account: Annotated[int | None, typer.Option()] = None,
    q: Annotated[str | None, typer.Option("--search", "-q", help="name contains")] = None,
    dry_run: Annotated[bool, typer.Option(help="only say what it would ask the cloud")] = False,
    config: ConfigOpt = None,
) -> None:
    """Backfill hourly history from CloudWatch or Cloud Monitoring, with a progress bar; Ctrl-C
    cancels."""
    from dbsnooze.jobs import backfill

    if (instance is None) == (not all_):
        _fail("name one INSTANCE, or use --all with optional filters")
    ctx = _context(config)
    how_many = ctx.settings.backfill_default_days if days is None else days  # 0 is refused
    try:
        if all_:
            flt = instance_store.InstanceFilter(
                account_id=account, region=region, engine=engine, q=q
            )
            if dry_run:
                console.print_json(
                    json.dumps(backfill.dry_run(ctx, flt, how_many, force), default=str)
                )
                return
            job = backfill.submit_fleet(ctx, flt, how_many, force, "cli")
        else:
            assert instance is not None
            job = backfill.submit_instance(ctx, _resolve(ctx, instance), how_many, force, "cli")
    except DbsnoozeError as exc:
        _fail(f"{exc.message} ({exc.code})")
    if job.capped:
        console.print(f"[yellow]days capped at {job.days}[/yellow] (DBSNOOZE_BACKFILL_MAX_DAYS)")
    _follow(ctx, job.id)


def _resolve(ctx: Context, instance: str) -> int:
    """An instance id, or the name of exactly one known instance."""
    if instance.isdigit():
        return int(instance)
    with ctx.sessions() as session:
        rows, _ = instance_store.page(session, instance_store.InstanceFilter(q=instance), 50, 0)
    exact = [r for r in rows if r.provider_id == instance]
    if len(exact) == 1:
        return exact[0].id
    if not exact:
        _fail(f"no instance named {instance!r}")
    _fail(f"{len(exact)} instances are named {instance!r}; give the id instead")


def _follow(ctx: Context, job_id: int) -> None:
    """Run a worker here and show the job's progress until it ends."""
    import time

    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from dbsnooze.api.jobs_view import public
    from dbsnooze.jobs import queue
    from dbsnooze.jobs.worker import Worker
    from dbsnooze.store.db import transaction
    from dbsnooze.store.tables import JobRow

    runner = Worker(ctx, ctx.buckets)
    runner.start()
    columns = (TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[info]}"),
               TimeElapsedColumn())  # fmt: skip
    try:
        with Progress(*columns, console=console) as bar:
            task = bar.add_task(f"backfill job {job_id}", total=1.0, info="")
            while True:
                with ctx.sessions() as session:
                    job = session.get(JobRow, job_id)
                    assert job is not None
                    view = public(session, job)
                info = (f"{view.hours_backfilled} backfilled, {view.hours_refetched} refetched, "
                        f"{view.hours_skipped} skipped, {view.hours_empty} empty, "
                        f"{view.api_calls} calls")  # fmt: skip
                bar.update(task, completed=view.progress, info=info)
                if view.finished_at is not None:
                    break
                time.sleep(0.2)
    except KeyboardInterrupt:
        with transaction(ctx.sessions) as session:
            job = session.get(JobRow, job_id)
            if job is not None and job.finished_at is None:
                queue.request_cancel(session, job, ctx.clock())
        console.print("[yellow]cancelling…[/yellow]")
    finally:
        runner.stop()
    _summary(view, _metric_api(ctx, view.instance_ids))


METRIC_APIS = {"aws": "CloudWatch", "gcp": "Cloud Monitoring"}


def _metric_api(ctx: Context, instance_ids: list[int]) -> str:
    with ctx.sessions() as session:
        row = instance_store.get(session, instance_ids[0]) if instance_ids else None
    return METRIC_APIS.get(row.provider if row else "aws", "cloud")


def _summary(view: Any, metric_api: str) -> None:
    color = {"succeeded": "green", "failed": "red"}.get(view.state, "yellow")
    console.print(
        f"[{color}]{view.state}[/{color}]: {view.hours_backfilled} hours backfilled, "
        f"{view.hours_skipped} skipped, {view.hours_empty} empty"
        + (f", {view.hours_refetched} refetched" if view.hours_refetched else "")
        + f" of {view.hours_total}; {view.api_calls} {metric_api} calls"
        + ("" if view.state == "succeeded" else f" ({view.progress:.0%} done)")
    )
    for error in view.errors[:10]:
        err_console.print(f"  [red]error[/red] {error.get('error')}")
    if view.state != "succeeded":
        raise typer.Exit(1)


@app.command("metrics")
def metrics_cmd(
    instance: Annotated[str, typer.Argument(help="instance id or name")],
    range_: Annotated[str, typer.Option("--range", help="24h, 7d, 30d or 90d")] = "24h",
    config: ConfigOpt = None,
    as_csv: Annotated[bool, typer.Option("--csv", help="print CSV")] = False,
) -> None:
    """Print an instance's hourly history as a table."""
    from dbsnooze import history

    if range_ not in history.RANGES:
        _fail(f"--range must be one of {', '.join(history.RANGES)}")
    ctx = _context(config)
    instance_id = _resolve(ctx, instance)
    with ctx.sessions() as session:
        row = instance_store.get(session, instance_id)
        if row is None:
            _fail(f"no instance with id {instance_id}")
        window = history.window_for(ctx.clock(), range_, None, None)
        found = history.history(session, row, list(ctx.settings.metrics), window)
    if as_csv:
        sys.stdout.write(found.to_csv())
        return
    table = Table(title=f"{row.provider_id} ({row.instance_class}), hourly averages, UTC")
    for column in ("hour", "coverage", *found.series):
        table.add_column(column, justify="right")
    for i, hour in enumerate(window):
        cells = [_cell(found.series[m][i]) for m in found.series]
        table.add_row(f"{hour:%a %d %b %H:00}", found.coverage[i], *cells)
    console.print(table)


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.2f}"


# `recommend` and `prices` (cli_sleep), `schedules` (cli_schedules), `sleep` and `wake`
# (cli_power) live in their own modules; importing them registers them on `app`.
from dbsnooze import cli_power, cli_schedules, cli_sleep  # noqa: E402, F401
