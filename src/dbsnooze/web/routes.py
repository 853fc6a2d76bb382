"""The web UI: server-rendered pages over the same store the API reads, plus static files.

Pages render what they can on the server (tables, sparklines); the instance page's charts,
heatmap and backfill progress are drawn by small scripts that call the JSON API with the
login cookie. `install(app)` is the one call the app factory makes.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from dbsnooze import __version__
from dbsnooze.analysis.eligibility import why_not_stoppable
from dbsnooze.analysis.service import stop_facts
from dbsnooze.analysis.zones import owner_zone
from dbsnooze.api import sleep_view
from dbsnooze.api.deps import ContextDep, SessionDep
from dbsnooze.api.jobs_view import public as job_public
from dbsnooze.api.params import MAX_ID
from dbsnooze.api.schemas import JobPublic
from dbsnooze.api.sleep_schemas import RecommendationPublic
from dbsnooze.config import HARD_MAX_BACKFILL_DAYS
from dbsnooze.context import Context
from dbsnooze.jobs import queue
from dbsnooze.metrics import CLASS_RAM_BYTES, METRICS, stored_metrics
from dbsnooze.schedules import savings
from dbsnooze.store import accounts as account_store
from dbsnooze.store import instances as instance_store
from dbsnooze.store import recommendations as recommendation_store
from dbsnooze.store import thresholds as threshold_store
from dbsnooze.store.recommendations import RecommendationFilter, State
from dbsnooze.store.tables import InstanceRow
from dbsnooze.store.thresholds import InstanceRule
from dbsnooze.web import auth, listing, overview, svg, weekmap

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
VENDOR_FILES = ("vendor/uPlot.iife.min.js", "vendor/uPlot.min.css")
RANGES = ("1h", "6h", "12h", "24h", "7d", "30d", "90d")
DEFAULT_RANGE = "30d"
SAVINGS_DAYS = 30  # the pages' "saved by schedules" period
BACKFILL_CHOICES = (1, 7, 14, 30, 60, 90, 180, 365, HARD_MAX_BACKFILL_DAYS)
JOBS_PER_PAGE = 50
# Pages load scripts, styles and data from this server only; nothing may frame them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

public = APIRouter(include_in_schema=False)
pages = APIRouter(include_in_schema=False, dependencies=[Depends(auth.require_login)])


def install(app: FastAPI) -> None:
    app.add_exception_handler(auth.LoginRequired, auth.to_login)
    from dbsnooze.web import schedule_pages  # it renders with this module's `_render`

    app.include_router(public)
    app.include_router(pages)
    app.include_router(schedule_pages.pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")


@functools.cache
def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals.update(version=__version__, metric_specs=METRICS)
    templates.env.filters.update(coverage_bar=svg.coverage_bar, week_cells=_week_cells)
    return templates


def vendor_ready() -> bool:
    return all((STATIC_DIR / name).is_file() for name in VENDOR_FILES)


def _render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("login_enabled", auth.token_required(request))
    session = auth.session_of(request)
    context.setdefault("csrf_token", session.csrf if session else "")
    response = _templates().TemplateResponse(request, name, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    """The page a browser gets when a page cannot be served (e.g. the store is unreachable)."""
    return _render(request, "error.html", status_code=status_code, message=message)


# --- login ------------------------------------------------------------------------------------


@public.get("/login", response_model=None)
def login_page(request: Request, next: str | None = None) -> Response:
    if not auth.token_required(request):
        return RedirectResponse(auth.safe_next(next), status_code=303)
    return _render(request, "login.html", next=auth.safe_next(next), error=None)


@public.post("/login", response_model=None)
def login(
    request: Request,
    token: Annotated[str, Form(max_length=4096)] = "",
    next: Annotated[str, Form(max_length=2048)] = "/",
) -> Response:
    target = auth.safe_next(next)
    if not auth.token_required(request):
        return RedirectResponse(target, status_code=303)
    if not auth.token_matches(request, token.strip()):
        error = "That token is not the one this server was started with."
        return _render(request, "login.html", status_code=401, next=target, error=error)
    response = RedirectResponse(target, status_code=303)
    auth.sign_in(response, request)
    return response


@public.post("/logout")
def logout(request: Request, csrf: Annotated[str, Form(max_length=256)] = "") -> RedirectResponse:
    if auth.session_of(request) is not None and not auth.csrf_matches(request, csrf):
        raise HTTPException(403, "signing out needs the page's CSRF token")
    auth.sign_out(request)
    response = RedirectResponse(auth.LOGIN_PATH, status_code=303)
    auth.clear_cookie(response)
    return response


# --- pages ------------------------------------------------------------------------------------


@pages.get("/")
def instances_page(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
    query, now = listing.parse(request.query_params), ctx.clock()
    flt, limit, offset = query.filter(now), query.per_page, query.offset
    rows, total = instance_store.page(session, flt, limit, offset, query.sort)
    extras = _page_extras(ctx, session, rows, now)
    return _render(
        request,
        "instances.html",
        query=query,
        rows=rows,
        total=total,
        extras=extras,
        accounts={a.id: a.name for a in account_store.all_rows(session)},
        facets=listing.facets(session),
        window=overview.spark_window(now),
        idle_rule=ctx.settings,
        inactive_choices=listing.INACTIVE_CHOICES,
        idle_choices=listing.IDLE_CHOICES,
        realized=savings.realized(session, now, SAVINGS_DAYS),
        savings_days=SAVINGS_DAYS,
    )


def _page_extras(
    ctx: Context, session: Session, rows: Sequence[InstanceRow], now: datetime
) -> dict[int, overview.Extras]:
    """Each provider's instances measured by the metrics it stores (GCP: memory used %)."""
    extras: dict[int, overview.Extras] = {}
    for kind in sorted({row.provider for row in rows}):
        ids = [row.id for row in rows if row.provider == kind]
        metrics = stored_metrics(kind, ctx.settings.metrics)
        extras.update(overview.page_extras(session, ids, metrics, now))
    return extras


@pages.get("/instances/{instance_id}")
def instance_page(
    request: Request, instance_id: int, ctx: ContextDep, session: SessionDep
) -> HTMLResponse:
    row = instance_store.get(session, instance_id) if 1 <= instance_id <= MAX_ID else None
    if row is None:
        message = f"There is no instance with id {instance_id}."
        return _render(request, "not_found.html", status_code=404, message=message)
    account = account_store.get(session, row.account_id)
    stored = {
        m.provider_id: m for m in instance_store.members_by_cluster(session, [row]).get(row.id, [])
    }
    chosen = request.query_params.get("range", DEFAULT_RANGE)
    max_days = ctx.settings.backfill_max_days
    settings = ctx.settings
    zone = owner_zone(
        row.tags,
        settings.timezone_tag,
        account.timezone if account else None,
        settings.default_timezone,
    )
    rule = threshold_store.read(session.connection(), [row.id])[row.id]
    return _render(
        request,
        "instance.html",
        row=row,
        account_name=account.name if account else f"#{row.account_id}",
        members=[(name, stored.get(name)) for name in row.members or ()],
        cannot_stop=why_not_stoppable(stop_facts(row)),
        range=chosen if chosen in RANGES else DEFAULT_RANGE,
        ranges=RANGES,
        metrics=ctx.settings.metrics,
        vendor_ready=vendor_ready(),
        chart_facts=_chart_facts(row, rule, zone.name),
        backfill_choices=[d for d in BACKFILL_CHOICES if d < max_days] + [max_days],
        backfill_default=min(ctx.settings.backfill_default_days, max_days),
    )


def _chart_facts(row: InstanceRow, rule: InstanceRule, zone: str) -> dict[str, Any]:
    """What the charts draw beside the history: the stored idle thresholds (lines on the CPU and
    connections charts), the owner's zone (night and weekend shading) and whether memory used %
    can be known for the class (GCP stores it; RDS derives it from the class's RAM)."""
    t = rule.thresholds
    return {
        "thresholds": {"cpu": t.cpu_percent, "connections": t.connections_limit},
        "owner_zone": zone,
        "memory_known": row.provider == "gcp" or row.instance_class in CLASS_RAM_BYTES,
    }


@pages.get("/jobs")
def jobs_page(request: Request, session: SessionDep, state: str | None = None) -> HTMLResponse:
    return _render(request, "jobs.html", **_jobs(session, state, _offset(request)))


@pages.get("/jobs/table")
def jobs_table(request: Request, session: SessionDep, state: str | None = None) -> HTMLResponse:
    """The jobs table alone: the jobs page swaps it in while any job is still going."""
    return _render(request, "_jobs_table.html", **_jobs(session, state, _offset(request)))


def _offset(request: Request) -> int:
    return listing.whole(request.query_params.get("offset"), 0)


def _jobs(session: Session, state: str | None, offset: int) -> dict[str, Any]:
    states = [s.value for s in queue.JobState]
    wanted = state if state in states else None
    rows, total = queue.page(session, JOBS_PER_PAGE, offset, wanted)
    jobs: list[JobPublic] = [job_public(session, row) for row in rows]
    ids = {i for job in jobs for i in job.instance_ids}
    query = select(InstanceRow.id, InstanceRow.provider_id).where(InstanceRow.id.in_(ids))
    names = {instance_id: name for instance_id, name in session.execute(query).tuples()}
    return {
        "jobs": jobs,
        "names": names,
        "total": total,
        "offset": offset,
        "per_page": JOBS_PER_PAGE,
        "state": wanted or "",
        "states": states,
        "active": any(job.finished_at is None for job in jobs),
    }


@pages.get("/accounts")
def accounts_page(request: Request, session: SessionDep) -> HTMLResponse:
    rows = account_store.all_rows(session)
    counts = account_store.instance_counts(session)
    return _render(request, "accounts.html", accounts=rows, counts=counts)


# --- recommendations --------------------------------------------------------------------------

KIND_WORDS = {
    "sleep": "sleep windows",
    "stop": "stop it",
    "blocked": "cannot be stopped",
    "none": "nothing to sleep",
    "not_enough_history": "not enough history",
}


def _week_cells(item: RecommendationPublic) -> list[weekmap.WeekCell]:
    windows = [(w.sleep_minute, w.wake_minute) for w in item.windows]
    return weekmap.week_cells(item.matrix.idle_share, windows)


@pages.get("/recommendations")
def recommendations_page(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
    kind = request.query_params.get("kind", "")
    state = request.query_params.get("state", "")
    flt = RecommendationFilter(
        kind=kind if kind in KIND_WORDS else None,
        state=State(state) if state in State.__members__.values() else None,
    )
    pairs = recommendation_store.listing(session, flt)
    items = [sleep_view.recommendation(rec, row) for rec, row in pairs]
    settings = ctx.settings
    realized = savings.realized(session, ctx.clock(), SAVINGS_DAYS)
    return _render(
        request,
        "recommendations.html",
        items=items,
        total=sleep_view.total(items),
        kinds=KIND_WORDS,
        kind=kind if kind in KIND_WORDS else "",
        states=[s.value for s in State],
        state=state if flt.state else "",
        week_size=weekmap.size(),
        confidence=round(settings.sleep_confidence * 100),
        weeks=settings.analysis_weeks,
        min_hours=f"{settings.sleep_min_hours:g}",
        wake_lead=settings.wake_lead_minutes,
        realized=realized,
        realized_by_id={r.instance_id: r for r in realized.instances},
        savings_days=SAVINGS_DAYS,
    )
