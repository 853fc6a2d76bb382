"""Opaque page tokens: a position plus a fingerprint of the query they belong to."""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Mapping, Sequence

from dbsnooze.demo.gcpfake.errors import invalid


def fingerprint(params: Mapping[str, Sequence[str]], ignore: frozenset[str]) -> str:
    """A short digest of a request's parameters, so a token cannot be replayed elsewhere."""
    kept = sorted((key, list(values)) for key, values in params.items() if key not in ignore)
    return hashlib.sha256(json.dumps(kept).encode()).hexdigest()[:16]


def encode(query: str, position: list[int]) -> str:
    raw = json.dumps({"q": query, "at": position}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode(token: str, query: str, length: int) -> list[int]:
    """The position in a token made for this query, or 400 INVALID_ARGUMENT."""
    try:
        data = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        position = [int(part) for part in data["at"]]
        valid = data["q"] == query and len(position) == length and min(position) >= 0
    except (ValueError, KeyError, TypeError, binascii.Error):
        valid = False
    if not valid:
        raise invalid("The page token is invalid or belongs to another request.")
    return position
