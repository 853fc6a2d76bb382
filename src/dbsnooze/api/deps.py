"""Typed dependency shortcuts for the routers."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException

from dbsnooze.api.guard import IDENTITY, Identity
from dbsnooze.context import Context
from dbsnooze.store.outage import unavailable

ACTORS = {"open": "api", "bearer": "api-token", "session": "session"}


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


def identity(request: Request) -> Identity | None:
    """Who the guard found the caller to be; None without a valid token or session."""
    found = request.scope.get(IDENTITY)
    return found if isinstance(found, Identity) else None


def actor(request: Request) -> str:
    """Who made the change, for the audit log."""
    found = identity(request)
    who = ACTORS[found.kind] if found else "unknown"
    host = request.client.host if request.client else "unknown"
    return f"{who}@{host}"


def require_token(request: Request) -> None:
    """SPEC §9: with a token configured, every API call needs the token or a login session.

    The guard already refused such calls before their body was read; this second line keeps a
    router mounted without the guard closed rather than open.
    """
    if identity(request) is None:
        raise HTTPException(
            401, "a valid API token is required", headers={"WWW-Authenticate": "Bearer"}
        )


ContextDep = Annotated[Context, Depends(get_context)]
SessionDep = Annotated[Session, Depends(get_session)]
ActorDep = Annotated[str, Depends(actor)]
