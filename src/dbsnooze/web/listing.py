"""The instances page's query string: filters, sort and paging, read leniently.

A page is for people: a stray or stale parameter falls back to its default instead of
answering with a JSON error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urlencode

from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.api.params import MAX_ID
from dbsnooze.store.instances import SORTABLE, InstanceFilter
from dbsnooze.store.tables import InstanceRow

PER_PAGE_CHOICES = (25, 50, 100, 250)
DEFAULT_PER_PAGE = 50
TEXT_LIMIT = 255
FILTERS = ("q", "provider", "account", "region", "status", "engine", "inactive", "idle")
# The activity filters' menus: days without an active hour, and idle share at least (%).
INACTIVE_CHOICES = {"1": "1 day or more", "7": "7 days or more", "30": "30 days or more"}
IDLE_CHOICES = {"50": "50 % or more", "90": "90 % or more", "99": "99 % or more"}
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True, slots=True)
class ListQuery:
    q: str = ""
    provider: str = ""
    account: str = ""
    region: str = ""
    status: str = ""
    engine: str = ""
    inactive: str = ""
    idle: str = ""
    sort: str = "name"
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.per_page

    def filter(self, now: datetime) -> InstanceFilter:
        return InstanceFilter(
            provider=self.provider or None,
            account_id=int(self.account) if self.account else None,
            region=self.region or None,
            status=self.status or None,
            engine=self.engine or None,
            q=self.q or None,
            inactive_since=now - timedelta(days=int(self.inactive)) if self.inactive else None,
            min_idle_share=int(self.idle) / 100 if self.idle else None,
        )

    @property
    def filtered(self) -> bool:
        return any(getattr(self, name) for name in FILTERS)

    def url(self, **changes: str | int) -> str:
        """This listing's URL with some parameters changed; defaults are left out."""
        changed = replace(self, **changes)  # type: ignore[arg-type]
        params = {
            name: value
            for name, value in (
                *((name, getattr(changed, name)) for name in FILTERS),
                ("sort", changed.sort if changed.sort != "name" else ""),
                ("page", changed.page if changed.page != 1 else ""),
                ("per_page", changed.per_page if changed.per_page != DEFAULT_PER_PAGE else ""),
            )
            if value not in ("", None)
        }
        return "/?" + urlencode(params) if params else "/"

    def sort_url(self, key: str) -> str:
        """Sorting by a column: ascending first, then the other way; back to page one."""
        return self.url(sort=f"-{key}" if self.sort == key else key, page=1)

    def direction(self, key: str) -> str:
        """The aria-sort value of a column header."""
        if self.sort == key:
            return "ascending"
        return "descending" if self.sort == f"-{key}" else "none"


def parse(params: Mapping[str, str]) -> ListQuery:
    def text(name: str) -> str:
        return printable(params.get(name, "")).strip()[:TEXT_LIMIT]

    sort = text("sort")
    account = text("account")
    per_page = whole(params.get("per_page"), DEFAULT_PER_PAGE)
    return ListQuery(
        q=text("q"),
        provider=text("provider") if text("provider") in ("aws", "gcp") else "",
        account=account if whole(account, 0) else "",
        region=text("region"),
        status=text("status"),
        engine=text("engine"),
        inactive=_choice(text("inactive"), INACTIVE_CHOICES),
        idle=_choice(text("idle"), IDLE_CHOICES),
        sort=sort if sort.lstrip("-") in SORTABLE else "name",
        page=max(1, whole(params.get("page"), 1)),
        per_page=per_page if per_page in PER_PAGE_CHOICES else DEFAULT_PER_PAGE,
    )


def _choice(raw: str, choices: Mapping[str, str]) -> str:
    return raw if raw in choices else ""


def whole(raw: str | None, default: int, most: int = MAX_ID) -> int:
    """A whole number from a query string, or `default` for anything else: other digits than
    0-9, or more than the store's integers hold."""
    if not raw or not (raw.isascii() and raw.isdigit()) or len(raw) > len(str(most)):
        return default
    return int(raw) if int(raw) <= most else default


def printable(raw: str) -> str:
    """Text without NUL or other control characters (PostgreSQL refuses NUL in text)."""
    return _CONTROL.sub("", raw)


@dataclass(frozen=True, slots=True)
class Facets:
    providers: list[str]
    regions: list[str]
    engines: list[str]
    statuses: list[str]


def facets(session: Session) -> Facets:
    """The values the filter menus offer, from one query over the listed instances."""
    query = select(
        InstanceRow.provider, InstanceRow.region, InstanceRow.engine, InstanceRow.status
    ).distinct()
    rows = list(session.execute(query.where(InstanceRow.deleted_at.is_(None))).tuples())
    return Facets(*(sorted({row[i] for row in rows}) for i in range(4)))
