"""The UI's login (SPEC §9): the API token, kept in an HttpOnly, SameSite=Strict cookie.

The cookie is the one `require_token` already accepts, so the pages' JavaScript calls the API
with it and no second credential exists. With no token configured there is nothing to log into.
"""

from __future__ import annotations

import hmac
from urllib.parse import quote

from fastapi import Request
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException

from dbsnooze.api.deps import require_token

COOKIE = "dbsnooze_token"
LOGIN_PATH = "/login"


class LoginRequired(Exception):
    """A page was asked for without a valid token: send the browser to the login page."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


def token_required(request: Request) -> bool:
    return request.app.state.settings.api_token is not None


def signed_in(request: Request) -> bool:
    try:
        require_token(request)
    except HTTPException:
        return False
    return True


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
    if token is None:
        return False
    return hmac.compare_digest(presented.encode(), token.get_secret_value().encode())


def safe_next(raw: str | None) -> str:
    """Only a path on this server: never `//host` or `https://…` (no open redirect)."""
    if not raw or not raw.startswith("/") or raw.startswith("//") or "\\" in raw:
        return "/"
    return raw


def set_cookie(response: Response, request: Request, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
        path="/",
    )


def clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
