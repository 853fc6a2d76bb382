"""Google's JSON wire formats: RFC 3339 timestamps and typed values (int64 as strings)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from dbsnooze.domain import ProviderError


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: Any) -> datetime:
    """An RFC 3339 timestamp ("Z" or an offset, up to nanoseconds) as an aware UTC datetime."""
    return _parse_time(str(value))


@functools.lru_cache(maxsize=65_536)  # every series of an answer repeats the same period ends
def _parse_time(value: str) -> datetime:
    text = value.replace("Z", "+00:00")
    head, dot, tail = text.partition(".")
    if dot:  # Python reads at most microseconds: keep six fraction digits, then the offset
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = f"{head}.{tail[: min(digits, 6)]}{tail[digits:]}"
    return datetime.fromisoformat(text).astimezone(UTC)


def typed_value(value: Mapping[str, Any]) -> float:
    """A TypedValue's number: doubleValue is a JSON number, int64Value a JSON string."""
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "int64Value" in value:
        return float(int(value["int64Value"]))
    raise ProviderError("cloud_error", f"unexpected metric value type: {sorted(value)}")
