"""The part of Cloud Monitoring's filter language dbsnooze speaks, parsed as the API would.

Supported: comparisons joined by AND, each `selector = "value"`, `selector != "value"` or
`selector = one_of("a", "b")`, with the selectors `metric.type`, `resource.type`, `project`,
`resource.label(s).KEY` and `metric.label(s).KEY`. The filter must name one metric type.
Anything else is answered 400 INVALID_ARGUMENT, never silently ignored.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from dbsnooze.demo.gcpfake.errors import GoogleError, invalid

_TOKEN = re.compile(
    r"""\s*(?:
        (?P<string>"(?:[^"\\]|\\.)*")
      | (?P<op>!=|=|\(|\)|,)
      | (?P<word>[A-Za-z_][A-Za-z0-9_./-]*)
    )""",
    re.VERBOSE,
)
_LABEL = re.compile(r"^(resource|metric)\.labels?\.([A-Za-z0-9_]+)$")
_PLAIN = frozenset({"metric.type", "resource.type", "project"})


@dataclass(frozen=True, slots=True)
class Condition:
    selector: str  # normalized: metric.type, resource.type, project, resource.labels.K, ...
    values: frozenset[str]
    negated: bool = False

    def matches(self, fields: Mapping[str, str]) -> bool:
        return (fields.get(self.selector) in self.values) != self.negated


@dataclass(frozen=True, slots=True)
class Filter:
    metric_type: str
    conditions: tuple[Condition, ...]

    def matches(self, fields: Mapping[str, str]) -> bool:
        return all(condition.matches(fields) for condition in self.conditions)


def parse(text: str) -> Filter:
    tokens = list(_tokens(text))
    conditions: list[Condition] = []
    position = 0
    while True:
        condition, position = _condition(tokens, position)
        conditions.append(condition)
        if position == len(tokens):
            break
        if tokens[position] != ("word", "AND"):
            raise invalid(f"Unsupported filter near {tokens[position][1]!r}: {text}")
        position += 1
    return Filter(_metric_type(conditions, text), tuple(conditions))


def normalize_selector(selector: str) -> str:
    """`resource.label.x` and `resource.labels.x` are one selector, as the API treats them."""
    label = _LABEL.match(selector)
    if label:
        return f"{label.group(1)}.labels.{label.group(2)}"
    if selector in _PLAIN:
        return selector
    raise invalid(f"Unknown selector in filter: {selector}")


def _tokens(text: str) -> Iterator[tuple[str, str]]:
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise invalid(f"Could not parse the filter at offset {position}: {text}")
        kind = match.lastgroup or "?"
        yield kind, match.group(kind)
        position = match.end()


def _condition(tokens: list[tuple[str, str]], start: int) -> tuple[Condition, int]:
    try:
        (kind, selector), (_, op) = tokens[start], tokens[start + 1]
    except IndexError:
        raise invalid("The filter ends in the middle of a comparison") from None
    if kind != "word" or op not in ("=", "!="):
        raise invalid(f"Expected `selector = value` in the filter, found {selector!r} {op!r}")
    values, end = _values(tokens, start + 2)
    return Condition(normalize_selector(selector), values, negated=op == "!="), end


def _values(tokens: list[tuple[str, str]], start: int) -> tuple[frozenset[str], int]:
    if start < len(tokens) and tokens[start][0] == "string":
        return frozenset({_unquote(tokens[start][1])}), start + 1
    if tokens[start : start + 2] == [("word", "one_of"), ("op", "(")]:
        return _one_of(tokens, start + 2)
    raise invalid("A filter comparison needs a double-quoted string or one_of(...)")


def _one_of(tokens: list[tuple[str, str]], start: int) -> tuple[frozenset[str], int]:
    values: set[str] = set()
    position = start
    while position < len(tokens):
        kind, text = tokens[position]
        if kind == "string":
            values.add(_unquote(text))
        elif text == ")" and values:
            return frozenset(values), position + 1
        elif text != ",":
            break
        position += 1
    raise invalid("one_of(...) takes one or more double-quoted strings")


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1])


def _metric_type(conditions: list[Condition], text: str) -> str:
    types = [c for c in conditions if c.selector == "metric.type" and not c.negated]
    if len(types) != 1 or len(types[0].values) != 1:
        raise GoogleError(
            "INVALID_ARGUMENT", f"The filter must specify exactly one metric type: {text}"
        )
    (metric_type,) = types[0].values
    return metric_type
