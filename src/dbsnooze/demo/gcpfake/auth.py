"""Identities, the OAuth 2.0 token endpoint, IAM grants and impersonation of the fake.

The token endpoint takes what google-auth sends for a service-account key: a form POST with
grant_type=urn:ietf:params:oauth:grant-type:jwt-bearer and assertion=<RS256 JWT>. The JWT's
signature is checked against the public key the fake was given for that account, and its claims
as Google documents them (iss, aud, iat, exp, scope); a bad one gets OAuth's error JSON.
"""

from __future__ import annotations

import base64
import binascii
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey

from dbsnooze.demo.gcpfake.errors import permission_denied, unauthenticated

OAUTH_AUDIENCE = "https://oauth2.googleapis.com/token"  # the aud google-auth always signs
JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_SECONDS = 3600
CLOCK_SKEW_SECONDS = 300
IMPERSONATE_PERMISSION = "iam.serviceAccounts.getAccessToken"
ALL_PERMISSIONS = frozenset(
    {
        "cloudsql.instances.list",
        "cloudsql.instances.get",
        "cloudsql.instances.update",
        "monitoring.timeSeries.list",
    }
)
_BAD_TIME = (
    "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable "
    "timeframe. Check your iat and exp values in the JWT claim."
)


class OAuthError(Exception):
    """An error of the token endpoint: {"error", "error_description"}, HTTP 400."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description

    def body(self) -> dict[str, str]:
        return {"error": self.error, "error_description": self.description}


@dataclass(frozen=True, slots=True)
class _Token:
    email: str
    expires: float


class Identities:
    """Who exists, which keys they sign with, what they may do where, and issued tokens."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._keys: dict[str, dict[str, RSAPublicKey]] = {}
        self._grants: dict[tuple[str, str], frozenset[str]] = {}
        self._impersonators: set[tuple[str, str]] = set()
        self._tokens: dict[str, _Token] = {}

    def add_account(self, email: str, key_id: str = "", key: RSAPublicKey | None = None) -> None:
        """An identity; with a key it can sign token requests, without one it is only a target."""
        with self._lock:
            keys = self._keys.setdefault(email, {})
            if key is not None:
                keys[key_id] = key

    def grant(self, email: str, project: str, permissions: Iterable[str] = ALL_PERMISSIONS) -> None:
        """Replace what `email` may do on `project` (an empty set takes everything away)."""
        with self._lock:
            self._grants[(email, project)] = frozenset(permissions)

    def allow_impersonation(self, source: str, target: str) -> None:
        with self._lock:
            self._impersonators.add((source, target))

    def exchange(self, form: Mapping[str, str]) -> dict[str, Any]:
        """The token endpoint: a signed JWT in, an access token out."""
        if form.get("grant_type") != JWT_BEARER:
            raise OAuthError(
                "unsupported_grant_type", f"Invalid grant_type: {form.get('grant_type', '')}"
            )
        email, scope = self._verify(form.get("assertion", ""))
        return {
            "access_token": self._issue(email),
            "scope": scope,
            "token_type": "Bearer",
            "expires_in": TOKEN_SECONDS,
        }

    def caller(self, authorization: str | None) -> str:
        """The identity behind an `Authorization: Bearer` header, or 401."""
        scheme, _, token = (authorization or "").partition(" ")
        with self._lock:
            found = self._tokens.get(token) if scheme.lower() == "bearer" else None
        if found is None or found.expires <= self._clock():
            raise unauthenticated()
        return found.email

    def require(self, email: str, project: str, permission: str) -> None:
        with self._lock:
            allowed = permission in self._grants.get((email, project), frozenset())
        if not allowed:
            raise permission_denied(permission, f"projects/{project}")

    def impersonate(self, source: str, target: str) -> dict[str, str]:
        """IAM Credentials generateAccessToken: a token for `target` if `source` may have one."""
        resource = f"projects/-/serviceAccounts/{target}"
        with self._lock:
            allowed = (source, target) in self._impersonators and target in self._keys
        if not allowed:
            raise permission_denied(IMPERSONATE_PERMISSION, resource)
        token = self._issue(target)
        expires = datetime.fromtimestamp(self._tokens[token].expires, UTC)
        return {"accessToken": token, "expireTime": expires.strftime("%Y-%m-%dT%H:%M:%SZ")}

    def _issue(self, email: str) -> str:
        token = "ya29.fake-" + secrets.token_urlsafe(24)
        with self._lock:
            self._tokens[token] = _Token(email, self._clock() + TOKEN_SECONDS)
        return token

    def _verify(self, assertion: str) -> tuple[str, str]:
        """The signer's email and the scope it asked for, once signature and claims check out."""
        header, claims, signed, signature = _split_jwt(assertion)
        email = str(claims.get("iss", ""))
        with self._lock:
            keys = dict(self._keys.get(email, {}))
        key = keys.get(str(header.get("kid", "")))
        if not keys:
            raise OAuthError("invalid_grant", "Invalid grant: account not found")
        if key is None or header.get("alg") != "RS256" or not _signed_by(key, signed, signature):
            raise OAuthError("invalid_grant", "Invalid JWT Signature.")
        self._check_claims(claims)
        return email, str(claims["scope"])

    def _check_claims(self, claims: Mapping[str, Any]) -> None:
        if claims.get("aud") != OAUTH_AUDIENCE:
            raise OAuthError("invalid_grant", "Invalid JWT: audience is not the token endpoint")
        if not claims.get("scope"):
            raise OAuthError("invalid_scope", "Invalid OAuth scope or ID token audience provided.")
        now = self._clock()
        issued, expires = float(claims.get("iat", 0)), float(claims.get("exp", 0))
        if not (issued - CLOCK_SKEW_SECONDS <= now < expires <= issued + TOKEN_SECONDS):
            raise OAuthError("invalid_grant", _BAD_TIME)


def _split_jwt(assertion: str) -> tuple[dict[str, Any], dict[str, Any], bytes, bytes]:
    parts = assertion.split(".")
    try:
        if len(parts) != 3:
            raise ValueError("a JWT has three parts")
        header, claims = (json.loads(_unbase64(part)) for part in parts[:2])
        signature = _unbase64(parts[2])
    except (ValueError, binascii.Error):
        raise OAuthError("invalid_request", "Invalid JWT: malformed assertion") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise OAuthError("invalid_request", "Invalid JWT: malformed assertion")
    return header, claims, f"{parts[0]}.{parts[1]}".encode(), signature


def _unbase64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def _signed_by(key: RSAPublicKey, signed: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, signed, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
