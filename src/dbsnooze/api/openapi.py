"""What the OpenAPI document promises: every error status in the real error shape, and auth.

Routers declare the statuses their own handlers raise (`errors(404, 409)`); those every /api/v1
operation can answer (auth, body size, validation, store down) are declared once on its router.
"""

from __future__ import annotations

from typing import Any

from fastapi import Security
from fastapi.params import Depends
from fastapi.security import HTTPBearer

from dbsnooze.api.schemas import ErrorResponse
from dbsnooze.config import Settings

Answers = dict[int | str, dict[str, Any]]

DESCRIPTIONS: dict[int, str] = {
    400: "the body is not valid JSON (`malformed_json`)",
    401: "no valid API token (`unauthorized`); send `Authorization: Bearer <token>`",
    404: "no such resource (`..._not_found`)",
    409: "conflicts with the current state (e.g. `backfill_running`, `account_exists`)",
    413: "the request body is over the size limit (`payload_too_large`)",
    422: "a parameter or the body is invalid (`validation_error`, or a named code)",
    503: "the store is unavailable (`store_unavailable`)",
}

BEARER = HTTPBearer(
    scheme_name="bearer",
    description="the server's DBSNOOZE_API_TOKEN",
    auto_error=False,  # require_token decides, so the UI's login cookie works too
)


def errors(*statuses: int) -> Answers:
    """`responses=` entries for these statuses, each with the error shape."""
    return {
        status: {"model": ErrorResponse, "description": DESCRIPTIONS[status]} for status in statuses
    }


def api_errors(settings: Settings) -> Answers:
    """What any /api/v1 operation can answer besides its own statuses."""
    common = (413, 422, 503)
    return errors(401, *common) if settings.api_token is not None else errors(*common)


def api_security(settings: Settings) -> list[Depends]:
    """The bearer scheme, declared on every /api/v1 operation when a token is required."""
    return [Security(BEARER)] if settings.api_token is not None else []
