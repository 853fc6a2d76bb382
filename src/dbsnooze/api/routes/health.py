"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST

from dbsnooze.api.deps import ContextDep
from dbsnooze.observability import exposition
from dbsnooze.store.db import current_revision, expected_revision
from dbsnooze.store.outage import unavailable

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])
UPGRADE_HINT = "run `dbsnooze db upgrade` (or restart `dbsnooze serve`, which migrates)"


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/metrics", include_in_schema=False)
def prometheus(ctx: ContextDep) -> Response:
    return Response(exposition(ctx), media_type=CONTENT_TYPE_LATEST)


@router.get(
    "/readyz",
    response_model=None,
    responses={503: {"description": "not ready", "content": {"application/json": {}}}},
)
def readyz(ctx: ContextDep) -> dict[str, Any] | JSONResponse:
    """Ready when the store answers and its schema is at the revision this version expects."""
    store, expected = ctx.engine.dialect.name, expected_revision()
    try:
        revision = current_revision(ctx.engine)
    except Exception as exc:  # not ready, whatever the store said; the answer names no detail
        if not unavailable(exc):  # an unreachable store is logged by its outage log
            log.warning("readiness check failed", extra={"error": type(exc).__name__})
        return _not_ready(store, None, expected, "the store cannot be read; see the server log")
    if revision != expected:
        why = f"the store's schema is at {revision or 'no revision (empty store)'}, "
        return _not_ready(store, revision, expected, why + f"expected {expected}: {UPGRADE_HINT}")
    return {"status": "ready", "store": store, "schema": revision}


def _not_ready(store: str, revision: str | None, expected: str | None, why: str) -> JSONResponse:
    body = {
        "status": "unavailable",
        "reason": why,
        "store": store,
        "schema": revision,
        "expected_schema": expected,
    }
    return JSONResponse(body, status_code=503)
