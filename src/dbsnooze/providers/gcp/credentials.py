"""google-auth credentials for an account: a service-account key, ADC, or impersonation."""

from __future__ import annotations

import json
from typing import Any

import google.auth
from google.auth import impersonated_credentials
from google.auth.credentials import Credentials as GoogleCredentials
from google.auth.exceptions import DefaultCredentialsError
from google.oauth2 import service_account

from dbsnooze.domain import AuthMethod, Credentials, ProviderError
from dbsnooze.providers.gcp.errors import credentials_error

SCOPES = ("https://www.googleapis.com/auth/cloud-platform",)
TOKEN_LIFETIME_SECONDS = 3600
GENERATE_ACCESS_TOKEN = "generateAccessToken"


def google_credentials(credentials: Credentials, iam_endpoint: str) -> GoogleCredentials:
    """Credentials that fetch and refresh their own access tokens when a request needs one."""
    method = credentials.method
    if method is AuthMethod.GCP_SERVICE_ACCOUNT:
        return _from_key(_required(credentials.service_account_json, "a service-account key"))
    if method is AuthMethod.GCP_ADC:
        return _application_default()
    if method is AuthMethod.GCP_IMPERSONATE:
        return _impersonated(credentials, iam_endpoint)
    raise ProviderError("credentials_invalid", f"auth method {method.value!r} is not a GCP method")


def key_secrets(credentials: Credentials) -> tuple[str | None, ...]:
    """The secret strings inside an account's credentials, to scrub from any message."""
    text = credentials.service_account_json
    if not text:
        return ()
    try:
        info = json.loads(text)
    except ValueError:
        return (text,)
    if not isinstance(info, dict):
        return (text,)
    return (text, info.get("private_key"), info.get("private_key_id"))


def _from_key(text: str) -> GoogleCredentials:
    info = _key_info(text)
    try:
        loaded: GoogleCredentials = service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=SCOPES
        )
    except (ValueError, KeyError, TypeError) as exc:
        raise credentials_error(f"the service-account key does not load: {exc}", [text]) from None
    return loaded


def _key_info(text: str) -> dict[str, Any]:
    try:
        info = json.loads(text)
    except ValueError:
        raise credentials_error("the service-account key is not JSON") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise credentials_error('the JSON is not a service-account key ("type": "service_account")')
    return info


def _application_default() -> GoogleCredentials:
    try:
        found, _project = google.auth.default(scopes=SCOPES)
    except DefaultCredentialsError as exc:
        raise credentials_error(f"no usable application default credentials: {exc}") from None
    resolved: GoogleCredentials = found
    return resolved


def _impersonated(credentials: Credentials, iam_endpoint: str) -> GoogleCredentials:
    target = _required(credentials.target_service_account, "the service account to impersonate")
    source = (
        _from_key(credentials.service_account_json)
        if credentials.service_account_json
        else _application_default()
    )
    url = f"{iam_endpoint}/v1/projects/-/serviceAccounts/{target}:{GENERATE_ACCESS_TOKEN}"
    impersonated: GoogleCredentials = impersonated_credentials.Credentials(  # type: ignore[no-untyped-call]
        source_credentials=source,
        target_principal=target,
        target_scopes=list(SCOPES),
        lifetime=TOKEN_LIFETIME_SECONDS,
        iam_endpoint_override=url,
    )
    return impersonated


def _required(value: str | None, what: str) -> str:
    if not value:
        raise ProviderError("credentials_invalid", f"the account's credentials need {what}")
    return value
