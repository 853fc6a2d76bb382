"""Google's error answers: `{"error": {"code", "message", "status"}}` with the HTTP status."""

from __future__ import annotations

from typing import Any

# google.rpc.Code names and the HTTP status Google maps each to (google/rpc/code.proto).
HTTP_STATUS: dict[str, int] = {
    "INVALID_ARGUMENT": 400,
    "FAILED_PRECONDITION": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "NOT_FOUND": 404,
    "ABORTED": 409,
    "RESOURCE_EXHAUSTED": 429,
    "INTERNAL": 500,
    "UNAVAILABLE": 503,
}

UNAUTHENTICATED_MESSAGE = (
    "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential."
)


OPERATION_IN_PROGRESS_MESSAGE = (
    "Operation failed because another operation was already in progress. Try your request "
    "after the current operation is complete."
)


class GoogleError(Exception):
    """An API failure as Google answers it; raised by handlers, rendered by the server.

    `errors`: the older v1 shape some APIs (Cloud SQL Admin) still answer, a list of
    `{"message", "domain", "reason"}` beside the code and message, without a `status`."""

    def __init__(
        self,
        status: str,
        message: str,
        details: list[dict[str, Any]] | None = None,
        errors: list[dict[str, str]] | None = None,
    ):
        super().__init__(message)
        self.status = status
        self.message = message
        self.details = details or []
        self.errors = errors or []

    @property
    def http_status(self) -> int:
        return HTTP_STATUS[self.status]

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.http_status, "message": self.message}
        if self.errors:
            error["errors"] = self.errors
        else:
            error["status"] = self.status
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(message: str) -> GoogleError:
    return GoogleError("INVALID_ARGUMENT", message)


def not_found(message: str) -> GoogleError:
    return GoogleError("NOT_FOUND", message)


def unauthenticated() -> GoogleError:
    return GoogleError("UNAUTHENTICATED", UNAUTHENTICATED_MESSAGE)


def permission_denied(permission: str, resource: str) -> GoogleError:
    """403 with the ErrorInfo detail real Google APIs attach, naming the missing permission."""
    detail = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "IAM_PERMISSION_DENIED",
        "domain": "iam.googleapis.com",
        "metadata": {"permission": permission, "resource": resource},
    }
    message = f"Permission '{permission}' denied on resource '{resource}' (or it may not exist)."
    return GoogleError("PERMISSION_DENIED", message, [detail])


def operation_in_progress() -> GoogleError:
    """409 as Cloud SQL Admin refuses a change while another operation runs on the instance."""
    reason = {
        "message": OPERATION_IN_PROGRESS_MESSAGE,
        "domain": "global",
        "reason": "operationInProgress",
    }
    return GoogleError("ABORTED", OPERATION_IN_PROGRESS_MESSAGE, errors=[reason])
