"""Typed dependency shortcuts for the routers."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from dbsnooze.context import Context
from dbsnooze.store.outage import unavailable


def get_context(request: Request) -> Context:
    ctx = request.app.state.ctx
    assert isinstance(ctx, Context)
    return ctx


def get_session(ctx: Annotated[Context, Depends(get_context)]) -> Iterator[Session]:
    session = ctx.sessions()
    try:
        yield session
    finally:
        _close(session)


def _close(session: Session) -> None:
    """Closing runs after the answer was sent: a connection that died with the store is the
    pool's to replace (the outage log has counted it), not an error of a finished request."""
    try:
        session.close()
    except Exception as exc:
        if not unavailable(exc):
            raise


def actor(request: Request) -> str:
    """Who made the change, for the audit log."""
    who = "api-token" if request.headers.get("authorization") else "api"
    host = request.client.host if request.client else "unknown"
    return f"{who}@{host}"


def require_token(request: Request) -> None:
    """SPEC §9: with a token configured, every API call needs `Authorization: Bearer <token>`."""
    token = request.app.state.settings.api_token
    if token is None:
        return
    presented = _bearer(request.headers.get("authorization", "")) or request.cookies.get(
        "dbsnooze_token", ""
    )
    if not hmac.compare_digest(presented.encode(), token.get_secret_value().encode()):
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


ContextDep = Annotated[Context, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
ActorDep = Annotated[str, Depends(actor)]
