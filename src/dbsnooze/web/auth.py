"""The UI's login (SPEC §9): the API token, once, for a session held in an HttpOnly cookie.

The cookie carries a random session id, never the token; the guard accepts it for API calls
from the pages, whose scripts send the session's CSRF token with every change. With no token
configured there is nothing to log into.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response

from dbsnooze.api.deps import identity
from dbsnooze.api.guard import SESSION_COOKIE
from dbsnooze.api.sessions import LoginSession, SessionStore

LOGIN_PATH = "/login"


class LoginRequired(Exception):
    """A page was asked for without a valid session: send the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def token_required(request: Request) -> bool:
    return request.app.state.settings.api_token is not None


def signed_in(request: Request) -> bool:
    return identity(request) is not None


def session_of(request: Request) -> LoginSession | None:
    found = identity(request)
    return found.session if found else None


def require_login(request: Request) -> None:
    """Dependency of every page but the login page."""
    if not signed_in(request):
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)


async def to_login(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, LoginRequired)
    return RedirectResponse(f"{LOGIN_PATH}?next={quote(exc.next_path, safe='')}", status_code=303)


def token_matches(request: Request, presented: str) -> bool:
    token = request.app.state.settings.api_token
    if token is None or not presented:
        return False
    return hmac.compare_digest(presented.encode(), token.get_secret_value().encode())


def safe_next(raw: str | None) -> str:
    """Only a path on this server: never `//host` or `https://…` (no open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def _store(request: Request) -> SessionStore:
    store = request.app.state.login_sessions
    assert isinstance(store, SessionStore)
    return store


def sign_in(response: Response, request: Request) -> None:
    """A fresh session (any earlier one of this browser is revoked) in a strict cookie."""
    sign_out(request)
    session = _store(request).open()
    response.set_cookie(
        SESSION_COOKIE,
        session.id,
        max_age=request.app.state.settings.session_ttl_seconds,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def sign_out(request: Request) -> None:
    session = session_of(request)
    if session is not None:
        _store(request).revoke(session.id)


def csrf_matches(request: Request, presented: str) -> bool:
    session = session_of(request)
    if session is None or not presented:
        return False
    return hmac.compare_digest(presented.encode(), session.csrf.encode())


def clear_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict")
