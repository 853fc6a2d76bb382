"""Google Cloud failures as ProviderError outcomes that say what failed and carry no secret."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import requests
from google.auth.exceptions import DefaultCredentialsError, RefreshError, TransportError

from dbsnooze.domain import ProviderError
from dbsnooze.logs import redact

# HTTP status of a Google API answer -> dbsnooze error code
_STATUS_CODES: dict[int, str] = {
    401: "credentials_invalid",
    403: "access_denied",
    404: "not_found",
    429: "throttled",
}
# Trying later may help: throttled, a conflicting operation in progress (409), a server error.
_RETRYABLE_STATUS = frozenset({409, 429, 500, 502, 503, 504})
# `errors[].reason` of Google's error JSON -> dbsnooze error code, for refusals that only say
# "wait": Cloud SQL runs one operation at a time per instance, and refuses a second with 409
# `operationInProgress` while a backup, maintenance or an earlier change runs.
_BUSY_REASONS: dict[str, str] = {"operationInProgress": "operation_in_progress"}
_MESSAGES: dict[str, str] = {
    "credentials_invalid": "Google did not accept the credentials for {permission} on {where}: "
    "{detail}",
    "access_denied": "permission {permission} denied on {where}: grant it to the identity "
    "dbsnooze uses ({detail})",
    "impersonation_failed": "could not impersonate the service account for {permission} on "
    "{where}: {detail}",
    "endpoint_unreachable": "could not reach the Google endpoint for {permission} on {where}: "
    "{detail}",
    "throttled": "Google kept throttling {permission} on {where} after retries: {detail}",
    "not_found": "{permission} on {where} found nothing: {detail}",
    "cloud_error": "{permission} failed on {where}: {detail}",
    "operation_in_progress": "another operation is running on the instance ({permission} on "
    "{where} was refused: {detail}); it is tried again when that one is done",
}

_PEM = re.compile(r"-----BEGIN [A-Z ]+-----.*?(?:-----END [A-Z ]+-----|$)", re.DOTALL)
_ACCESS_TOKEN = re.compile(r"\bya29\.[\w.-]+")
_JWT = re.compile(r"\beyJ[\w-]+\.[\w-]+\.[\w-]*")
_LONG_SECRET = re.compile(r"(?<![\w+=-])[\w+=-]{40,}(?![\w+=-])")  # key ids, refresh tokens
_MASK = "****"
_MAX_DETAIL_CHARS = 300


@dataclass(frozen=True, slots=True)
class Where:
    """What a failed call was for: the API method's permission and the project it touched."""

    permission: str
    project: str | None = None

    def describe(self) -> str:
        return f"project {self.project}" if self.project else "Google Cloud"


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove known secrets, keys, tokens and JWTs from text meant for people."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _MASK)
    for pattern in (_PEM, _ACCESS_TOKEN, _JWT, _LONG_SECRET):
        text = pattern.sub(_MASK, text)
    return redact(text)


def from_response(response: requests.Response, where: Where) -> ProviderError:
    """A Google error answer (`{"error": {"code", "message", "status"}}`) as an outcome."""
    payload = _answer(response)
    detail = f"HTTP {response.status_code} {_answer_message(payload)}"
    busy = next((_BUSY_REASONS[r] for r in _reasons(payload) if r in _BUSY_REASONS), None)
    if busy is not None and response.status_code == 409:
        return _error(busy, detail, where, busy=True)
    code = _STATUS_CODES.get(response.status_code, "cloud_error")
    return _error(code, detail, where, response.status_code in _RETRYABLE_STATUS)


def from_exception(
    exc: BaseException, where: Where, secrets: Iterable[str | None] = ()
) -> ProviderError:
    """A failure before any answer: bad credentials, an unreachable endpoint, a timeout."""
    if isinstance(exc, ProviderError):
        return ProviderError(exc.code, scrub(exc.message, secrets), exc.retryable, busy=exc.busy)
    code, detail = _classify(exc)
    return _error(code, scrub(detail, secrets), where, code == "endpoint_unreachable")


def credentials_error(detail: str, secrets: Iterable[str | None] = ()) -> ProviderError:
    return ProviderError(
        "credentials_invalid", "the GCP credentials cannot be used: " + scrub(detail, secrets)
    )


def _error(
    code: str, detail: str, where: Where, retryable: bool = False, *, busy: bool = False
) -> ProviderError:
    detail = scrub(detail)[:_MAX_DETAIL_CHARS]
    message = _MESSAGES[code].format(
        permission=where.permission, where=where.describe(), detail=detail
    )
    return ProviderError(code, message, retryable, busy=busy)


def _classify(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, RefreshError):
        return _refresh_failure(exc)
    if isinstance(exc, DefaultCredentialsError):
        return "credentials_invalid", f"no usable application default credentials: {exc}"
    if isinstance(exc, TransportError | requests.ConnectionError | requests.Timeout):
        return "endpoint_unreachable", f"{type(exc).__name__}: {_first_line(exc)}"
    return "cloud_error", f"{type(exc).__name__}: {_first_line(exc)}"


def _refresh_failure(exc: RefreshError) -> tuple[str, str]:
    """google-auth's RefreshError: (message, answer body) from the token or IAM endpoint."""
    message = str(exc.args[0]) if exc.args else "token refresh failed"
    body = exc.args[1] if len(exc.args) > 1 else None
    if "impersonated" in message:
        return "impersonation_failed", _body_message(body) or message
    return "credentials_invalid", message


_NOT_JSON = object()


def _answer(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return _NOT_JSON


def _answer_message(payload: Any) -> str:
    if payload is _NOT_JSON:
        return "(the answer is not JSON: is the endpoint a Google API?)"
    return _body_message(payload) or "(no error message)"


def _reasons(payload: Any) -> list[str]:
    """The machine-readable reasons of Google's error JSON: `errors[].reason` (the v1 shape
    Cloud SQL Admin answers) and `details[].reason` (ErrorInfo)."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return []
    items = [*(error.get("errors") or []), *(error.get("details") or [])]
    return [str(item["reason"]) for item in items if isinstance(item, dict) and "reason" in item]


def _body_message(body: Any) -> str | None:
    """The message of Google's error JSON, whether parsed or still text."""
    if isinstance(body, str | bytes):
        try:
            body = json.loads(body)
        except ValueError:
            return None
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return f"{error.get('status', '')}: {error.get('message', '')}".strip(": ")
    if isinstance(error, str):
        return f"{error}: {body.get('error_description', '')}".rstrip(": ")
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc) or repr(exc)
    return text.splitlines()[0] if text else ""
