"""The app factory: `create_app(settings)` wires routers, errors, auth and background work."""

from __future__ import annotations

import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import timedelta

from fastapi import APIRouter, Depends, FastAPI

from dbsnooze import __version__, notify
from dbsnooze.analysis.runner import recommender
from dbsnooze.api import errors, openapi
from dbsnooze.api.deps import require_token
from dbsnooze.api.guard import Guard
from dbsnooze.api.routes import (
    accounts,
    actions,
    health,
    instances,
    inventory,
    jobs,
    metrics,
    recommendations,
    savings,
    schedules,
)
from dbsnooze.api.sessions import SessionStore
from dbsnooze.clock import utc_now
from dbsnooze.config import Settings, token_problem
from dbsnooze.context import Context, build_context
from dbsnooze.discovery import discover
from dbsnooze.jobs.worker import Worker, background, reconciler, worker_name
from dbsnooze.scheduler import Periodic
from dbsnooze.store.db import upgrade
from dbsnooze.web import routes as web

log = logging.getLogger(__name__)
API_PREFIX = "/api/v1"


class InsecureBind(Exception):
    """Refuse to serve an open API on a non-loopback address, or behind an unusable token."""


def check_bind(settings: Settings) -> None:
    problem = token_problem(settings.api_token)  # again: copied settings skip validation
    if problem is not None:
        raise InsecureBind(problem)
    if not settings.is_loopback and settings.api_token is None:
        raise InsecureBind(
            f"refusing to listen on {settings.host} without DBSNOOZE_API_TOKEN: "
            "the API would be open to the network (bind 127.0.0.1 or set a token)"
        )


def create_app(settings: Settings, ctx: Context | None = None) -> FastAPI:
    check_bind(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        context = ctx or build_context(settings)
        upgrade(context.engine)
        app.state.ctx = context
        tasks = _background(context)
        for task in tasks:
            task.start()
        app.state.background = tasks
        # What is loaded by now lives as long as the app. Frozen, it is no longer walked by every
        # full garbage collection: ~100 ms, every few 90-day chart requests, before. (Freezing
        # costs nothing; unfreezing at shutdown hands it back to the collector.)
        gc.freeze()
        log.info("dbsnooze ready", extra={"store": context.engine.dialect.name})
        try:
            yield
        finally:
            gc.unfreeze()
            for task in reversed(tasks):
                task.stop()
            if ctx is None:
                context.close()

    app = FastAPI(
        title="dbsnooze",
        version=__version__,
        lifespan=lifespan,
        docs_url="/docs",
        openapi_url="/openapi.json",
    )
    app.state.settings = settings
    ttl = timedelta(seconds=settings.session_ttl_seconds)
    app.state.login_sessions = login_sessions = SessionStore(ttl, ctx.clock if ctx else utc_now)
    app.add_middleware(Guard, settings=settings, sessions=login_sessions)
    errors.install(app, page=web.error_page)
    app.include_router(health.router)
    api = APIRouter(
        prefix=API_PREFIX,
        dependencies=[Depends(require_token), *openapi.api_security(settings)],
        responses=openapi.api_errors(settings),
    )
    for module in (
        accounts,
        instances,
        inventory,
        metrics,
        jobs,
        recommendations,
        schedules,
        actions,
        savings,
    ):
        api.include_router(module.router)
    app.include_router(api)
    web.install(app)
    return app


def _background(ctx: Context) -> list[Periodic | Worker | notify.Notifier]:
    """The webhook notifier (first up, last down), discovery, the job worker, the collector and
    the recommender, unless settings say not here."""
    tasks: list[Periodic | Worker | notify.Notifier] = []
    if ctx.settings.webhook_urls:
        notifier = notify.from_settings(ctx)
        ctx.notify = notifier.submit
        tasks.append(notifier)
    owner = worker_name()
    if ctx.settings.run_worker:
        worker, collector = background(ctx, ctx.buckets)
        ctx.wake_worker = worker.wake
        owner = worker.name
        tasks += [worker, collector] if ctx.settings.run_collector else [worker]
        tasks.append(reconciler(ctx, worker.name))
    if ctx.settings.run_scheduler:
        interval = ctx.settings.discovery_interval_seconds
        tasks.append(Periodic("discovery", interval, lambda: discover(ctx, "scheduler")))
        tasks.append(recommender(ctx, owner))
    return tasks
