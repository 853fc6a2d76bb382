"""The schedules pages: the list, and one schedule with its week grid (SPEC §11).

The grid is the schedule's windows as 7 x 24 hour cells on its own clock; the page's script
draws windows on it and saves them through the API, then shows the preview the API returns.
The list's form creates a schedule and a schedule's settings form edits or deletes it, both
through the API; their time zone fields offer the tz database's zones.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from zoneinfo import available_timezones

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from dbsnooze.api import schedule_view
from dbsnooze.api.deps import ContextDep, SessionDep
from dbsnooze.api.params import Id
from dbsnooze.schedules.rules import DAY_NAMES
from dbsnooze.schedules.spec import Window
from dbsnooze.schedules.weekly import MINUTES_PER_DAY, MINUTES_PER_WEEK
from dbsnooze.store import schedules as store
from dbsnooze.store.tables import InstanceRow
from dbsnooze.web import auth
from dbsnooze.web.routes import _render

pages = APIRouter(include_in_schema=False, dependencies=[Depends(auth.require_login)])
DAY_WORDS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
NOT_PLACES = frozenset({"Factory", "localtime"})  # in the tz database's files, no one's clock


@dataclass(frozen=True, slots=True)
class Cell:
    day: int
    hour: int
    asleep: bool

    @property
    def label(self) -> str:
        return f"{DAY_WORDS[self.day]} {self.hour:02d}:00 to {(self.hour + 1) % 24:02d}:00"


def week_cells(windows: tuple[Window, ...]) -> list[list[Cell]]:
    """Each hour of the week, asleep when its first minute is inside a window."""
    spans = [span for w in windows for span in _spans(w)]
    return [
        [
            Cell(day, hour, any(_inside(day * MINUTES_PER_DAY + hour * 60, s) for s in spans))
            for hour in range(24)
        ]
        for day in range(7)
    ]


def _spans(window: Window) -> list[tuple[int, int]]:
    sleep = window.sleep.hour * 60 + window.sleep.minute
    wake = window.wake.hour * 60 + window.wake.minute
    overnight = 1 if wake <= sleep else 0
    length = (window.span_days + overnight) * MINUTES_PER_DAY + wake - sleep
    return [(day * MINUTES_PER_DAY + sleep, length) for day in window.days]


def _inside(minute: int, span: tuple[int, int]) -> bool:
    start, length = span
    return (minute - start) % MINUTES_PER_WEEK < length


@pages.get("/schedules")
def schedules_page(request: Request, ctx: ContextDep, session: SessionDep) -> HTMLResponse:
    now = ctx.clock()
    shown = [
        schedule_view.schedule(row, store.explicit_instances(session, row.id), now)
        for row in store.listing(session)
    ]
    return _render(
        request,
        "schedules.html",
        schedules=shown,
        conflicts=store.conflicts(session),
        zones=zone_names(),
    )


@pages.get("/schedules/{schedule_id:int}")
def schedule_page(
    request: Request, schedule_id: Id, ctx: ContextDep, session: SessionDep
) -> HTMLResponse:
    row = store.require(session, schedule_id)
    shown = schedule_view.schedule(row, store.explicit_instances(session, row.id), ctx.clock())
    spec = store.spec_of(row)
    return _render(
        request,
        "schedule.html",
        schedule=shown,
        grid=week_cells(spec.windows),
        day_names=DAY_NAMES,
        day_words=DAY_WORDS,
        off_hour=any(w.sleep.minute or w.wake.minute for w in spec.windows),
        candidates=_candidates(session),
        zones=zone_names(),
    )


@functools.cache
def zone_names() -> tuple[str, ...]:
    """The IANA zones a schedule may name, sorted: read once from the tz database."""
    return tuple(sorted(available_timezones() - NOT_PLACES))


def _candidates(session: Session) -> list[tuple[int, str]]:
    """Instances that can be assigned from the page, by name."""
    query = (
        select(InstanceRow.id, InstanceRow.provider_id)
        .where(InstanceRow.deleted_at.is_(None))
        .order_by(InstanceRow.provider_id)
        .limit(1000)
    )
    return [(row.id, row.provider_id) for row in session.execute(query)]
