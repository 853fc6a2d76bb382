"""botocore's response parsing without its per-element cost on long lists of numbers and times.

A 500-query GetMetricData answer holds 84,000 timestamps and 84,000 values. botocore walks every
element through a generic per-shape dispatch and puts each epoch timestamp in dateutil's slow
tzlocal(): 0.3 s per answer, more than a fleet backfill spends on everything else. Here a list of
scalars is converted in one comprehension, with the same result botocore gives element by element,
and epoch timestamps become UTC datetimes (the same instants; dbsnooze works in UTC anyway).
RDS's XML carries ISO 8601 text instead (two per described instance), which botocore hands to
dateutil's general parser at about 50 us each: a quarter of a quiet reconciler pass. Text in the
one form AWS writes (UTC or an offset, at most microseconds) is read by `datetime.fromisoformat`
instead, giving the same instant in UTC; any other text still takes botocore's path.

An answer that is not AWS's (another service's XML at a wrong endpoint) makes botocore's parsers
trip over a missing key; that is said as botocore's own ResponseParserError, which callers handle.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import boto3
from botocore.parsers import JSONParser, ResponseParserError, ResponseParserFactory
from botocore.utils import parse_timestamp

# 2026-11-18T14:23:05.951265Z, 2026-11-18T14:23:05Z, 2026-11-18T15:23:05+01:00
_ISO_INSTANT = re.compile(
    r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d)", re.ASCII
)


def utc_timestamp(value: Any) -> datetime:
    """botocore's timestamp parser, except that epoch numbers and ISO 8601 instants become UTC
    datetimes (the same instants botocore gives)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str) and _ISO_INSTANT.fullmatch(value):
        try:
            return datetime.fromisoformat(value).astimezone(UTC)
        except ValueError:  # no such date or time: botocore says so in its words
            pass
    parsed: datetime = parse_timestamp(value)
    return parsed


class _JSONParser(JSONParser):  # type: ignore[misc]
    """One instance parses one answer, whose lists of results mostly repeat the same times."""

    def __init__(self, **defaults: Any) -> None:
        super().__init__(**defaults)
        self._times: dict[Any, datetime] = {}

    def _handle_list(self, shape: Any, node: list[Any]) -> list[Any]:
        member = shape.member.type_name
        if member == "timestamp":
            seen = self._times.get  # a dict lookup per element, a call only per new time
            return [None if item is None else (seen(item) or self._time(item)) for item in node]
        if not hasattr(self, f"_handle_{member}"):  # botocore passes these through unchanged
            return list(node)
        result: list[Any] = super()._handle_list(shape, node)
        return result

    def _time(self, value: Any) -> datetime:
        found = self._times.get(value)
        if found is None:
            found = self._times[value] = self._timestamp_parser(value)
        return found


class _Guarded:
    """A parser whose surprise at an answer of the wrong shape is a ResponseParserError."""

    def __init__(self, parser: Any) -> None:
        self._parser = parser

    def parse(self, response: dict[str, Any], shape: Any) -> Any:
        try:
            return self._parser.parse(response, shape)
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ResponseParserError(f"unexpected answer ({type(exc).__name__})") from None


class _ParserFactory(ResponseParserFactory):  # type: ignore[misc]
    def create_parser(self, protocol_name: str) -> Any:
        if protocol_name == "json":
            return _Guarded(_JSONParser(**self._defaults))
        return _Guarded(super().create_parser(protocol_name))


def install(session: boto3.Session) -> None:
    """Make every client created from `session` afterwards parse answers the fast way."""
    factory = _ParserFactory()
    factory.set_parser_defaults(timestamp_parser=utc_timestamp)
    session._session.register_component("response_parser_factory", factory)
