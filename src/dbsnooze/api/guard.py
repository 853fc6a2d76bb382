"""The one gate every HTTP request passes before the app sees it (SPEC §9).

In order, from the request's head alone, without reading a byte of its body: the Host header
must name this server (DNS rebinding), a declared body must fit the limit, a change coming from a
browser must come from our own pages (Sec-Fetch-Site, Origin, else Referer), an API call must be
authenticated (bearer token or login session), a change made with the login cookie must carry
the session's CSRF token, and a change to the API may only send JSON. Then the body is counted
as it streams in, so a chunked body cannot pass the limit either.

Refusals are answered here in the error shape; FastAPI would read the body before any dependency.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dbsnooze.api.errors import error_response
from dbsnooze.api.sessions import LoginSession, SessionStore
from dbsnooze.config import Settings, normal_host

IDENTITY = "dbsnooze.identity"  # scope key: who the guard found the caller to be, or None
SESSION_COOKIE = "dbsnooze_session"
CSRF_HEADER = "x-csrf-token"
API_PATHS = "/api/"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SAME_ORIGIN_FETCH = frozenset({"same-origin", "none"})  # `none`: the user's own navigation


@dataclass(frozen=True)
class Identity:
    """`open`: no token configured; `bearer`: an Authorization header; `session`: the cookie."""

    kind: Literal["open", "bearer", "session"]
    session: LoginSession | None = None


@dataclass(frozen=True)
class Refusal:
    status: int
    code: str
    message: str
    headers: dict[str, str] = field(default_factory=dict)


class BodyTooLarge(Exception):
    """Raised into the app from `receive` once the streamed body passes the limit."""


class Guard:
    def __init__(self, app: ASGIApp, settings: Settings, sessions: SessionStore) -> None:
        self.app, self.settings, self.sessions = app, settings, sessions
        self.hosts = settings.allowed_host_names()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)  # the head only: headers and cookies, never the body
        identity = self.identify(request)
        scope[IDENTITY] = identity
        refusal = self.check(request, identity)
        if refusal is not None:
            await _refuse(refusal, request, scope, receive, send)
            return
        await _within_limit(self.app, self.settings.max_body_bytes, scope, receive, send)

    def identify(self, request: Request) -> Identity | None:
        token = self.settings.api_token
        presented = _bearer(request.headers.get("authorization", ""))
        if token is None:
            return Identity("bearer" if presented else "open")
        if presented:
            same = hmac.compare_digest(presented.encode(), token.get_secret_value().encode())
            return Identity("bearer") if same else None
        session_id = request.cookies.get(SESSION_COOKIE, "")
        session = self.sessions.find(session_id) if session_id else None
        return Identity("session", session) if session is not None else None

    def check(self, request: Request, identity: Identity | None) -> Refusal | None:
        changes = request.method not in SAFE_METHODS
        api = request.url.path.startswith(API_PATHS)
        return (
            self._host(request)
            or _declared_size(request, self.settings.max_body_bytes)
            or (_cross_origin(request) if changes and not _by_bearer(identity) else None)
            or (_unauthenticated() if api and identity is None else None)
            or (_csrf_token(request, identity) if changes and api else None)
            or (_not_json(request) if changes and api else None)
        )

    def _host(self, request: Request) -> Refusal | None:
        if self.hosts is None or host_name(request.headers.get("host", "")) in self.hosts:
            return None
        return Refusal(
            421,
            "host_not_allowed",
            "this server does not answer to that Host name (see DBSNOOZE_ALLOWED_HOSTS)",
        )


def host_name(header: str) -> str:
    """The name in a Host header, without its port: `[::1]:8080` -> `::1`."""
    if header.startswith("["):
        return normal_host(header.partition("]")[0])
    return normal_host(header.rsplit(":", 1)[0] if header.count(":") == 1 else header)


def _bearer(header: str) -> str:
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


def _by_bearer(identity: Identity | None) -> bool:
    """A browser never adds an Authorization: Bearer header on its own: no CSRF to fear."""
    return identity is not None and identity.kind == "bearer"


def _declared_size(request: Request, limit: int) -> Refusal | None:
    declared = request.headers.get("content-length")
    if declared is None:
        return None
    if not declared.strip().isdigit():
        return Refusal(400, "bad_request", "Content-Length is not a number")
    return _too_large(limit) if int(declared) > limit else None


def _too_large(limit: int) -> Refusal:
    return Refusal(413, "body_too_large", f"the request body is larger than {limit} bytes")


def _cross_origin(request: Request) -> Refusal | None:
    """Browsers say where a request comes from; a client that says nothing is not a browser."""
    fetch_site = request.headers.get("sec-fetch-site")
    source = request.headers.get("origin") or request.headers.get("referer")
    own = request.headers.get("host", "").lower()
    if fetch_site is not None and fetch_site.lower() not in SAME_ORIGIN_FETCH:
        return _foreign()
    if source is not None and urlsplit(source).netloc.lower() != own:
        return _foreign()
    return None


def _foreign() -> Refusal:
    return Refusal(403, "cross_origin", "changes are accepted only from this server's own pages")


def _unauthenticated() -> Refusal:
    return Refusal(
        401, "unauthorized", "a valid API token is required", {"WWW-Authenticate": "Bearer"}
    )


def _csrf_token(request: Request, identity: Identity | None) -> Refusal | None:
    if identity is None or identity.session is None:
        return None
    sent = request.headers.get(CSRF_HEADER, "")
    if sent and hmac.compare_digest(sent.encode(), identity.session.csrf.encode()):
        return None
    return Refusal(403, "csrf_token_invalid", f"a change made by the UI needs its {CSRF_HEADER}")


def _not_json(request: Request) -> Refusal | None:
    content_type = request.headers.get("content-type")
    if content_type is None:
        return None
    media = content_type.partition(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    return Refusal(415, "unsupported_media_type", "the API accepts only application/json bodies")


def _has_body(request: Request) -> bool:
    return "transfer-encoding" in request.headers or request.headers.get(
        "content-length", "0"
    ).strip() not in ("", "0")


async def _refuse(
    refusal: Refusal, request: Request, scope: Scope, receive: Receive, send: Send
) -> None:
    response = error_response(refusal.status, refusal.code, refusal.message)
    response.headers.update(refusal.headers)
    if _has_body(request):  # left unread: the connection cannot carry another request
        response.headers["Connection"] = "close"
    await response(scope, receive, send)


@dataclass
class _Budget:
    left: int
    exceeded: bool = False
    started: bool = False


async def _within_limit(
    app: ASGIApp, limit: int, scope: Scope, receive: Receive, send: Send
) -> None:
    """Run the app, counting body bytes as they arrive; past the limit, answer 413 instead."""
    budget = _Budget(limit)

    async def counted() -> Message:
        message = await receive()
        if message["type"] == "http.request":
            budget.left -= len(message.get("body", b""))
            if budget.left < 0:
                budget.exceeded = True
                raise BodyTooLarge
        return message

    async def watched(message: Message) -> None:
        if budget.exceeded and not budget.started:
            return  # whatever the app makes of the interruption, the answer is ours
        budget.started = budget.started or message["type"] == "http.response.start"
        await send(message)

    try:
        await app(scope, counted, watched)
    except Exception:
        if not budget.exceeded:  # the app's own fault; BodyTooLarge, however wrapped, is ours
            raise
    if budget.exceeded and not budget.started:
        response = error_response(413, "body_too_large", _too_large(limit).message)
        response.headers["Connection"] = "close"
        await response(scope, receive, send)
