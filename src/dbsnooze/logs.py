"""Structured logging that never carries a secret."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

# Query parameters whose value is a credential, wherever a URL is logged (the access log).
SECRET_QUERY_KEYS = (
    r"[\w.-]*token",  # token, access_token, api_token, id_token, X-Amz-Security-Token
    r"[\w.-]*secret",
    r"[\w.-]*password",
    r"passwd",
    r"api[_-]?key",
    r"key",
    r"session(?:[_-]?id)?",
    r"csrf",
    r"auth(?:orization)?",
    r"(?:x-amz-)?(?:signature|credential)",
)
# Shapes of AWS secrets: access key ids and 40-character secret keys; bearer tokens; the values
# of credential-named query parameters.
SECRET_PATTERNS = (
    re.compile(r"\b(AKIA|ASIA)[A-Z0-9]{12,}\b"),
    re.compile(r"(?<![A-Za-z0-9/+=])[A-Za-z0-9/+=]{40}(?![A-Za-z0-9/+=])"),
    re.compile(r"(?i)(bearer\s+)[^\s\"']+"),
    re.compile(rf"(?i)([?&;](?:{'|'.join(SECRET_QUERY_KEYS)})=)[^&;#\s\"']*"),
)
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message",
    "asctime",
    "color_message",  # uvicorn repeats its message with terminal colours
}


def redact(text: str, known: Iterable[str] = ()) -> str:
    """Secrets by shape, and the values of `known` ones (as they are and as URLs quote them)."""
    for secret in known:
        for form in {secret, quote(secret, safe="")}:
            text = text.replace(form, "[redacted]")
    for pattern in SECRET_PATTERNS:
        text = pattern.sub(lambda m: (m.group(1) if m.lastindex else "") + "[redacted]", text)
    return text


class _Redacting(logging.Formatter):
    known: tuple[str, ...] = ()  # this server's own secrets, e.g. its API token


class JsonFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "at": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in _STANDARD})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return redact(json.dumps(entry, default=str), self.known)


class TextFormatter(_Redacting):
    def format(self, record: logging.LogRecord) -> str:
        extras = {k: v for k, v in vars(record).items() if k not in _STANDARD}
        line = super().format(record)
        return redact(f"{line} {json.dumps(extras, default=str)}" if extras else line, self.known)


def configure(level: str = "INFO", fmt: str = "json", known: Iterable[str] = ()) -> None:
    handler = logging.StreamHandler()
    formatter: _Redacting = (
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(message)s")
    )
    formatter.known = tuple(secret for secret in known if secret)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
