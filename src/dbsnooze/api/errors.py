"""Every error a client sees is {"error": {"code", "message"}}; no stack trace ever leaves."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match, Mount

from dbsnooze.api.params import MAX_DAYS_REQUESTED
from dbsnooze.errors import DbsnoozeError
from dbsnooze.store.outage import unavailable

log = logging.getLogger(__name__)

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_error",
    429: "too_many_requests",
}

# Parameters whose bad values have a code of their own: location -> (code, message template).
NAMED_PARAMETERS: dict[tuple[str, ...], tuple[str, str]] = {
    ("query", "days"): (
        "invalid_days",
        f"days must be a whole number of at least 1 (at most {MAX_DAYS_REQUESTED}), not {{0!r}}",
    ),
}
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def error_response(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse(error_body(code, message, **extra), status_code=status)


STORE_UNAVAILABLE = "the store cannot be reached right now; try again shortly"
RETRY_AFTER_SECONDS = 5
ErrorPage = Callable[[Request, int, str], Response]


def install(app: FastAPI, page: ErrorPage | None = None) -> None:
    """Error handlers; `page` renders the UI's HTML error page for a browser asking for one."""
    app.add_exception_handler(DbsnoozeError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    store_error = _store_error_handler(page)
    for store_exception in (DBAPIError, PoolTimeout):
        app.add_exception_handler(store_exception, store_error)
    app.add_exception_handler(Exception, _unexpected_error)


async def _domain_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, DbsnoozeError)
    return error_response(exc.status, exc.code, exc.message, **exc.extra)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_describe(err) for err in exc.errors()]
    if any(err.get("type") == "json_invalid" for err in exc.errors()):
        return error_response(400, "malformed_json", "the request body is not valid JSON")
    for err in exc.errors():
        if named := NAMED_PARAMETERS.get(tuple(err.get("loc", ()))):
            code, message = named
            return error_response(422, code, message.format(err.get("input")))
    return error_response(422, "validation_error", "; ".join(problems), fields=problems)


def _describe(err: Any) -> str:
    location = ".".join(str(part) for part in err.get("loc", ()) if part != "body")
    return f"{location}: {err.get('msg', 'invalid')}" if location else str(err.get("msg"))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = HTTP_CODES.get(exc.status_code, "http_error")
    message = exc.detail if isinstance(exc.detail, str) else code.replace("_", " ")
    response = error_response(exc.status_code, code, message)
    for name, value in (exc.headers or {}).items():
        response.headers[name] = value
    if exc.status_code == 405 and (allowed := _allowed_methods(request)):
        response.headers["Allow"] = ", ".join(allowed)
    return response


def _store_error_handler(page: ErrorPage | None) -> Callable[..., Any]:
    """503 `store_unavailable` while the store is down: no traceback (the engine's outage log
    has said it once); any other store error is an unexpected one."""

    async def handler(request: Request, exc: Exception) -> Response:
        if not unavailable(exc):
            return await _unexpected_error(request, exc)
        headers = {"Retry-After": str(RETRY_AFTER_SECONDS)}
        if page is not None and _wants_page(request):
            response = page(request, 503, STORE_UNAVAILABLE)
        else:
            response = error_response(503, "store_unavailable", STORE_UNAVAILABLE)
        response.headers.update(headers)
        return response

    return handler


def _wants_page(request: Request) -> bool:
    """A browser asking for a page of the UI, not a client of the API."""
    accepts = request.headers.get("accept", "")
    return not request.url.path.startswith("/api/") and "text/html" in accepts


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route answers at this path (the router names only the first route's).

    Mounts are left out: the static files say themselves what they allow.
    """
    routes = [r for r in request.app.router.routes if not isinstance(r, Mount)]
    return [
        method
        for method in METHODS
        if any(r.matches({**request.scope, "method": method})[0] is Match.FULL for r in routes)
    ]


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    log.error(
        "unhandled error",
        exc_info=(type(exc), exc, exc.__traceback__),
        extra={"path": request.url.path},
    )
    return error_response(500, "internal_error", "an internal error occurred; see the server log")
