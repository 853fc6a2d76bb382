"""AWS failures as ProviderError outcomes that say what failed and never carry a secret."""

from __future__ import annotations

import re
from collections.abc import Iterable

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    HTTPClientError,
    InvalidRegionError,
    NoCredentialsError,
    NoRegionError,
    PartialCredentialsError,
    ProfileNotFound,
    UnknownEndpointError,
)
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.parsers import ResponseParserError

from dbsnooze.domain import Credentials, ProviderError

# What a caller catches around any AWS call: botocore's failures plus our own outcome.
AWS_ERRORS: tuple[type[Exception], ...] = (
    BotoCoreError,
    ClientError,
    ResponseParserError,  # e.g. an HTML error page from a proxy or an emulator's HTTP 500
    ProviderError,
)

ACCESS_DENIED = "access_denied"  # the identity lacks the permission (its policy, not its key)

_CLIENT_ERROR_CODES: dict[str, str] = {
    "InvalidClientTokenId": "credentials_invalid",
    "UnrecognizedClientException": "credentials_invalid",
    "SignatureDoesNotMatch": "credentials_invalid",
    "IncompleteSignature": "credentials_invalid",
    "InvalidAccessKeyId": "credentials_invalid",
    "AuthFailure": "credentials_invalid",
    "ExpiredToken": "credentials_invalid",
    "ExpiredTokenException": "credentials_invalid",
    "RequestExpired": "credentials_invalid",
    "AccessDenied": ACCESS_DENIED,
    "AccessDeniedException": ACCESS_DENIED,
    "UnauthorizedOperation": ACCESS_DENIED,
    "Throttling": "throttled",
    "ThrottlingException": "throttled",
    "RequestLimitExceeded": "throttled",
    "TooManyRequestsException": "throttled",
}

_NOT_AWS = "the endpoint answered something that is not an AWS response (an HTTP error page?)"

# Checked in order: the first matching class wins. A fixed detail replaces the exception's text.
_EXCEPTION_CODES: tuple[tuple[type[Exception], str, str | None], ...] = (
    (NoCredentialsError, "credentials_invalid", None),
    (PartialCredentialsError, "credentials_invalid", None),
    (ProfileNotFound, "credentials_invalid", None),
    (InvalidRegionError, "region_invalid", None),
    (NoRegionError, "region_invalid", None),
    (UnknownEndpointError, "region_invalid", None),
    (BotoConnectionError, "endpoint_unreachable", None),
    (HTTPClientError, "endpoint_unreachable", None),
    (ResponseParserError, "cloud_error", _NOT_AWS),
)

_MESSAGES: dict[str, str] = {
    "credentials_invalid": "AWS did not accept the credentials for {action} in {region}: {detail}",
    "access_denied": "access denied for {action} in {region}: grant it to the identity dbsnooze "
    "uses ({detail})",
    "assume_role_failed": "{action} in {region} was refused: {detail}",
    "endpoint_unreachable": "could not reach the AWS endpoint for {action} in {region}: {detail}",
    "region_invalid": "{region!r} is not a usable AWS region for {action}: {detail}",
    "throttled": "AWS kept throttling {action} in {region} after retries: {detail}",
    "cloud_error": "{action} failed in {region}: {detail}",
}

_KEY_ID = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA|ABIA|ACCA|AGPA|ANPA|ANVA|AIPA)[A-Z0-9]{12,}\b")
_SECRET_LIKE = re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40,}(?![A-Za-z0-9/+=])")
_MASK = "****"
_MAX_DETAIL_CHARS = 300


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove known secrets and anything shaped like an AWS key from text meant for people."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _MASK)
    text = _KEY_ID.sub(lambda match: match.group()[:4] + _MASK, text)
    return _SECRET_LIKE.sub(_MASK, text)


def credential_secrets(credentials: Credentials) -> tuple[str | None, ...]:
    return (
        credentials.access_key_id,
        credentials.secret_access_key,
        credentials.session_token,
        credentials.external_id,
    )


def to_provider_error(
    exc: BaseException, *, action: str, region: str, secrets: Iterable[str | None] = ()
) -> ProviderError:
    """The outcome a person can act on: error code plus a message naming what failed where."""
    if isinstance(exc, ProviderError):
        return ProviderError(exc.code, scrub(exc.message, secrets))
    code, detail = _classify(exc)
    detail = scrub(detail, secrets)[:_MAX_DETAIL_CHARS]
    message = _MESSAGES[code].format(action=action, region=region, detail=detail)
    return ProviderError(code, message)


def _classify(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, ClientError):
        return _classify_client_error(exc)
    for exc_type, code, fixed_detail in _EXCEPTION_CODES:
        if isinstance(exc, exc_type):
            return code, fixed_detail or str(exc)
    return "cloud_error", f"{type(exc).__name__}: {exc}"


def _classify_client_error(exc: ClientError) -> tuple[str, str]:
    error = exc.response.get("Error", {})
    aws_code = str(error.get("Code", "Unknown"))
    detail = f"{aws_code}: {error.get('Message', '')}".rstrip(": ")
    if exc.operation_name == "AssumeRole":
        return "assume_role_failed", detail
    return _CLIENT_ERROR_CODES.get(aws_code, "cloud_error"), detail
