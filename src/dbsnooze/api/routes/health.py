"""Liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from dbsnooze.api.deps import ContextDep
from dbsnooze.observability import exposition
from dbsnooze.store.db import current_revision

router = APIRouter(tags=["health"])


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
    try:
        with ctx.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        revision = current_revision(ctx.engine)
    except Exception as exc:  # the store is down: not ready, and say why without details
        body = {"status": "unavailable", "store": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    return {"status": "ready", "store": ctx.engine.dialect.name, "schema": revision}
